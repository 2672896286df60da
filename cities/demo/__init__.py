"""The demo city (清江市): synthetic exports of a prefecture-level city and the hidden truth behind them.

    from cities.demo import SimulationConfig, simulate_city, write_city
    write_city(simulate_city(SimulationConfig(n_cases=2_000, days=300)), Path("out"))

How the city is made (hidden tension, truth, messiness, group grievances): docs/design/simulator.md.
"""

from cities.demo.city import simulate_city, write_city
from cities.demo.config import (
    CASE_COLUMNS,
    EVENT_COLUMNS,
    FILE_NAMES,
    GRIEVANCE_COLUMNS,
    HORIZON_DAYS,
    HOTLINE_COLUMNS,
    SimulatedCity,
    SimulationConfig,
    truth_as_of_dates,
)
from cities.demo.generic_calls import GENERIC_THINGS
from cities.demo.messiness import CORRUPTION_COLUMNS, DUPLICATE_FIELD

__all__ = [
    "CASE_COLUMNS",
    "CORRUPTION_COLUMNS",
    "DUPLICATE_FIELD",
    "EVENT_COLUMNS",
    "FILE_NAMES",
    "GENERIC_THINGS",
    "GRIEVANCE_COLUMNS",
    "HORIZON_DAYS",
    "HOTLINE_COLUMNS",
    "SimulatedCity",
    "SimulationConfig",
    "simulate_city",
    "truth_as_of_dates",
    "write_city",
]
