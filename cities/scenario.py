"""Scenario parameters of the Hawkes city: size, period, seed, and where the risk signal lives."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

Signal = Literal["calls", "staff_notes", "amounts", "parties", "repeat_failures"]
SIGNALS: tuple[str, ...] = ("calls", "staff_notes", "amounts", "parties", "repeat_failures")


@dataclass(frozen=True)
class HawkesScenario:
    """One Hawkes city: its size and period, which source carries the risk, and how records look.

    signal: where the escalation risk shows (see `cities.mechanics`); case_number_quote_rate: share of
    case calls that carry the case number; negation_rate: share of calm callers' and notes' texts that
    carry a negated cue ("不打算起诉"); decoy_rate: share of background calls with a cue word in an
    unrelated sense; never_closed_rate: share of cases never given a closed event; seasonality: amplitude
    of the yearly cycle of intake and district shocks (0 none, 1 full); district_effect: scale of the
    district differences in shocks and baseline intensity; late_entry_rate: share of records entered
    late (recorded_at 1-10 days after).
    """

    name: str = "hawkes_calls"
    signal: Signal = "calls"
    seed: int = 11
    n_cases: int = 20_000
    days: int = 540
    start: date = date(2024, 3, 1)
    truth_every_days: int = 7
    case_number_quote_rate: float = 0.35
    negation_rate: float = 0.3
    decoy_rate: float = 0.1
    never_closed_rate: float = 0.1
    seasonality: float = 0.4
    district_effect: float = 1.0
    late_entry_rate: float = 0.05

    def __post_init__(self) -> None:
        if self.signal not in SIGNALS:
            raise ValueError(f"signal must be one of {', '.join(SIGNALS)}, got {self.signal!r}")
        if self.n_cases < 1 or self.days < 61 or self.truth_every_days < 1:
            raise ValueError("n_cases and truth_every_days must be positive and days at least 61")
        for name in (
            "case_number_quote_rate",
            "negation_rate",
            "decoy_rate",
            "never_closed_rate",
            "seasonality",
            "late_entry_rate",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {getattr(self, name)}")
        if self.district_effect < 0:
            raise ValueError(f"district_effect must be >= 0, got {self.district_effect}")

    def sized(self, n_cases: int, days: int) -> HawkesScenario:
        """The same scenario with another size and period (e.g. a tiny city for tests)."""
        return replace(self, n_cases=n_cases, days=days)


def scenarios() -> dict[str, HawkesScenario]:
    """The named scenarios, each putting the risk signal in another source and shaping records apart."""
    named = (
        HawkesScenario(name="hawkes_calls", signal="calls", seed=11),
        HawkesScenario(
            name="hawkes_notes",
            signal="staff_notes",
            seed=12,
            case_number_quote_rate=0.6,
            never_closed_rate=0.25,
            negation_rate=0.4,
        ),
        HawkesScenario(
            name="hawkes_amounts",
            signal="amounts",
            seed=13,
            seasonality=0.8,
            decoy_rate=0.2,
            district_effect=0.5,
        ),
        HawkesScenario(
            name="hawkes_parties",
            signal="parties",
            seed=14,
            case_number_quote_rate=0.15,
            decoy_rate=0.25,
            never_closed_rate=0.05,
        ),
        HawkesScenario(
            name="hawkes_failures",
            signal="repeat_failures",
            seed=15,
            negation_rate=0.5,
            case_number_quote_rate=0.5,
            seasonality=0.1,
            district_effect=1.5,
            late_entry_rate=0.12,
        ),
    )
    return {s.name: s for s in named}
