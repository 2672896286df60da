"""The Hawkes city's cases at intake: when and where they open, their traits and hidden process constants."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cities.mechanics import Mechanics, branching
from cities.scenario import HawkesScenario
from cities.vocabulary import CATEGORIES, DISTRICTS, SOURCE_SHARES, SOURCES

ESCALATIONS: tuple[str, ...] = ("violence", "group_incident", "litigation")
BASE_INTENSITY = 0.04  # events a day of an average case at rest
DAILY_HAZARD = 0.0024  # escalation hazard a day of an average young case
_DISTRICT_LEVEL = np.array([1.0, 0.8, 1.3, 1.5, 0.9, 0.7])  # baseline intensity by district


@dataclass(frozen=True)
class Population:
    """The cases, sorted by the day they open (so the cases open by day t are a prefix)."""

    opened_day: np.ndarray
    opened_second: np.ndarray  # second of the day
    district: np.ndarray
    town: np.ndarray  # object: the town's name
    category: np.ndarray
    parties: np.ndarray
    amount: np.ndarray  # float, NaN where none is at stake or it is not recorded
    source: np.ndarray
    temperament: np.ndarray  # hidden
    baseline: np.ndarray  # mu: resting intensity of a newly opened case
    fade_days: np.ndarray  # tau: the resting intensity, hazard and shock loading fade as exp(-age / tau)
    slope: np.ndarray  # (n, 3) a_k: hazard per unit of intensity, by escalation type
    floor: np.ndarray  # (n, 3) b_k: hazard independent of intensity, by escalation type
    intake_intensity: np.ndarray  # lambda at opening
    never_closed: np.ndarray  # bool: the case is never given a closed event
    closing: np.ndarray  # daily closing probability while calm

    @property
    def size(self) -> int:
        """Number of cases."""
        return len(self.opened_day)


def season(scenario: HawkesScenario, days: np.ndarray, peak_day_of_year: float = 30.0) -> np.ndarray:
    """The yearly cycle (mean 1) on the given days of the period, peaking on a day of the year."""
    day_of_year = (np.asarray(days) + scenario.start.timetuple().tm_yday - 1) % 365
    return 1.0 + scenario.seasonality * np.cos(2 * np.pi * (day_of_year - peak_day_of_year) / 365.0)


def draw_population(rng: np.random.Generator, scenario: HawkesScenario, m: Mechanics) -> Population:
    """Draws every case's intake and hidden constants for the scenario."""
    n = scenario.n_cases
    shares = np.array([c.share for c in CATEGORIES])
    category = rng.choice(len(CATEGORIES), size=n, p=shares / shares.sum())
    opened_day = _opening_days(rng, scenario, category)
    order = np.argsort(opened_day, kind="stable")
    category, opened_day = category[order], opened_day[order]
    weights = np.array([d.weight for d in DISTRICTS])
    district = rng.choice(len(DISTRICTS), size=n, p=weights / weights.sum())
    town = np.array(
        [DISTRICTS[d].towns[rng.integers(len(DISTRICTS[d].towns))] for d in district], dtype=object
    )
    mean_extra = np.array([c.parties for c in CATEGORIES])[category]
    parties = 1 + rng.poisson(rng.gamma(0.7, mean_extra / 0.7 + 1e-9))
    median = np.array([c.amount for c in CATEGORIES], dtype=float)[category]
    amount = np.where(
        median > 0, np.round(median * rng.lognormal(0.0, 0.9, n) * np.sqrt(parties), -2), np.nan
    )
    amount[rng.random(n) < 0.1] = np.nan  # not recorded
    source = rng.choice(len(SOURCES), size=n, p=np.array(SOURCE_SHARES) / sum(SOURCE_SHARES))
    temperament = rng.lognormal(-0.5 * m.temperament_sd**2, m.temperament_sd, n)
    district_level = _DISTRICT_LEVEL[district] ** scenario.district_effect
    baseline = BASE_INTENSITY * temperament * district_level
    fade_days = 40.0 + rng.gamma(2.0, 30.0, n)
    slope, floor = _hazards(rng, m, category, parties, amount, median, baseline)
    intake = baseline * rng.gamma(2.0, 0.9, n)
    closing = 0.04 * np.array([d.closing for d in DISTRICTS])[district] * rng.lognormal(0.0, 0.4, n)
    return Population(
        opened_day=opened_day,
        opened_second=rng.integers(8 * 3600, 18 * 3600, n),
        district=district,
        town=town,
        category=category,
        parties=parties,
        amount=amount,
        source=source,
        temperament=temperament,
        baseline=baseline,
        fade_days=fade_days,
        slope=slope,
        floor=floor,
        intake_intensity=intake,
        never_closed=rng.random(n) < scenario.never_closed_rate,
        closing=closing,
    )


def _opening_days(rng: np.random.Generator, scenario: HawkesScenario, category: np.ndarray) -> np.ndarray:
    """Per case, its opening day: seasonal per category (peaks of its own), fewer on weekends."""
    days = np.arange(scenario.days)
    weekday = (days + scenario.start.weekday()) % 7
    week = np.where(weekday >= 5, 0.45, 1.0)
    out = np.empty(len(category), dtype=np.int64)
    for c, cat in enumerate(CATEGORIES):
        rows = np.flatnonzero(category == c)
        weights = week * season(scenario, days, cat.season_peak)
        out[rows] = rng.choice(scenario.days, size=len(rows), p=weights / weights.sum())
    return out


def _hazards(
    rng: np.random.Generator,
    m: Mechanics,
    category: np.ndarray,
    parties: np.ndarray,
    amount: np.ndarray,
    median: np.ndarray,
    baseline: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per case and escalation type, the hazard's slope on the intensity (a) and its floor (b)."""
    leaning = np.array([[c.violence, c.group, c.litigation] for c in CATEGORIES])[category]
    money = np.where(median > 0, np.nan_to_num(amount, nan=median) / np.maximum(median, 1.0), 1.0)
    money = np.clip(money, 0.05, 40.0)
    crowd = np.clip(parties - 0.5, 0.5, None)
    traits = np.column_stack(
        [money ** (0.5 * m.amount_power), crowd**m.party_power, money**m.amount_power]
    ) * rng.lognormal(0.0, 0.3, (len(category), 3))
    relative = leaning * traits
    relative /= relative.sum(axis=1).mean()
    mean_intensity = baseline.mean() / (1.0 - branching(m))
    floor = DAILY_HAZARD * m.hazard_scale * (1.0 - m.slope_share) * relative
    slope = DAILY_HAZARD * m.hazard_scale * m.slope_share * relative / mean_intensity
    return slope, floor
