"""What a simulated city is made from (`SimulationConfig`) and what it is (`SimulatedCity`): the exports'
columns and file names, the truth's horizon and as-of dates, and the event codes the simulator uses."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from contracts.vocabulary import DEFAULT_ESCALATION_EVENTS, EventType, RecordKind

CASE_COLUMNS: tuple[str, ...] = (
    "case_id",
    "opened_at",
    "district",
    "town",
    "category",
    "source",
    "description",
    "party_count",
    "amount",
    "reporter_name",
    "reporter_phone",
    "reporter_id_number",
    "address",
    "recorded_at",
)
EVENT_COLUMNS: tuple[str, ...] = ("case_id", "event_at", "event_type", "note", "recorded_at")
HOTLINE_COLUMNS: tuple[str, ...] = (
    "call_id",
    "received_at",
    "district",
    "category",
    "text",
    "channel",
    "case_id",
    "caller_name",
    "caller_phone",
    "recorded_at",
)
GRIEVANCE_COLUMNS: tuple[str, ...] = (
    "grievance",
    "thing",
    "thing_kind",
    "district",
    "onset",
    "first_escalation_at",
    "escalation_case_id",
    "record_kind",
    "record_id",
    "named_as",
)
FILE_NAMES: dict[RecordKind, str] = {
    RecordKind.CASES: "cases.csv",
    RecordKind.CASE_EVENTS: "case_events.csv",
    RecordKind.HOTLINE: "hotline.csv",
}
HORIZON_DAYS = 30  # days of the truth's label window

DAY = 86_400  # seconds
EVENT_TYPES: tuple[EventType, ...] = tuple(EventType)
EVENT_CODE: dict[EventType, int] = {e: i for i, e in enumerate(EVENT_TYPES)}
ESCALATION_CODES = np.array([EVENT_CODE[e] for e in DEFAULT_ESCALATION_EVENTS])


@dataclass(frozen=True)
class SimulationConfig:
    """Size, period, seed and messiness of a simulated city."""

    seed: int = 7
    n_cases: int = 20_000
    days: int = 540
    start: date = date(2025, 1, 1)
    messiness: float = 0.0
    truth_every_days: int = 7
    # Paths of the hidden process drawn from each open case's state for the truth's p_escalation (its
    # share of paths escalating within the horizon); 0: 1 - exp(-horizon x today's hazard), quick but high
    # at the top (it ignores the tension's return to its base and closings).
    truth_paths: int = 0
    grievances: int = 2  # group grievances added to the city (the last of several still emerging at the end)
    # How callers on a real message board name a grievance's thing (`plain_grievances()`: all off, the
    # simulator before issue 17, each thing named one clean way).
    grievance_name_variety: float = 0.6  # share of its calls naming the thing other than by its full name
    grievance_typo_rate: float = 0.03  # share of its calls with a character of the name miswritten
    grievance_topic_only: float = 0.15  # share of its calls naming no thing, only what is wrong
    grievance_more_kinds: bool = True  # grievances 4-6 about a college's internships, a loan platform, works
    generic_call_share: float = 0.03  # more background calls naming generic words (整个小区 ...), x calls

    def __post_init__(self) -> None:
        if self.n_cases < 1 or self.days < 1 or self.truth_every_days < 1:
            raise ValueError("n_cases, days and truth_every_days must be positive")
        if self.truth_paths < 0:
            raise ValueError("truth_paths must be zero or more")
        if self.grievances < 0:
            raise ValueError("grievances must be zero or more")
        if not 0.0 <= self.messiness <= 0.5:
            raise ValueError("messiness must be within [0, 0.5]")
        shares = (
            self.grievance_name_variety,
            self.grievance_typo_rate,
            self.grievance_topic_only,
            self.generic_call_share,
        )
        if not all(0.0 <= share <= 1.0 for share in shares):
            raise ValueError("grievance name shares and generic_call_share must be within [0, 1]")

    def plain_grievances(self) -> SimulationConfig:
        """This config with every thing named one clean way, three kinds of grievance and no generic calls:
        the exports of the simulator before issue 17 (its grievance truth has the `named_as` column more)."""
        return replace(
            self,
            grievance_name_variety=0.0,
            grievance_typo_rate=0.0,
            grievance_topic_only=0.0,
            grievance_more_kinds=False,
            generic_call_share=0.0,
        )


@dataclass(frozen=True)
class SimulatedCity:
    """The three exports of a simulated city and the truth tables behind them."""

    cases: pd.DataFrame
    case_events: pd.DataFrame
    hotline: pd.DataFrame
    truth_escalation: pd.DataFrame
    truth_links: pd.DataFrame
    truth_corruptions: pd.DataFrame
    truth_grievances: pd.DataFrame


def truth_as_of_dates(config: SimulationConfig) -> list[date]:
    """The as-of dates of the truth table: every truth_every_days from start+30d to end-30d."""
    first, last = HORIZON_DAYS, config.days - HORIZON_DAYS
    return [config.start + timedelta(days=d) for d in range(first, last + 1, config.truth_every_days)]
