"""The hidden profile of every case: when it opens (season, weekends, Spring Festival), district, town,
category, parties, money at stake, the thing it is about, its reporter and baseline tension."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from cities.demo.categories import KIND_MULTIPLIERS, SOURCE_OVERRIDES, SOURCE_SHARES, profile_array
from cities.demo.config import DAY, SimulationConfig
from cities.demo.draws import OFFICE_HOURS, choose, choose_rows, seconds_of_day
from cities.demo.people import OUTSIDE_AREAS, draw_id_numbers, draw_names, draw_phones
from cities.demo.places import DISTRICTS, Places, draw_addresses, draw_towns, pick_in_town
from contracts.vocabulary import CATEGORIES

_SPRING_FESTIVAL: dict[int, date] = {
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
}


@dataclass(frozen=True)
class Cases:
    """Hidden per-case truth, index-aligned and sorted by opening time."""

    case_id: np.ndarray
    opened_sec: np.ndarray
    district: np.ndarray
    town: np.ndarray
    category: np.ndarray
    source: np.ndarray
    party_count: np.ndarray
    amount: np.ndarray
    amount_shown: np.ndarray
    base_tension: np.ndarray
    initial_tension: np.ndarray
    call_propensity: np.ndarray
    entity: np.ndarray
    address: np.ndarray
    reporter_name: np.ndarray
    reporter_phone: np.ndarray
    reporter_id: np.ndarray
    contact_names: np.ndarray  # (n, 3) other parties, neighbours, co-workers
    contact_phones: np.ndarray  # (n, 3)


def _category_matrix() -> np.ndarray:
    """Category probabilities per district (rows: districts, columns: CATEGORIES)."""
    shares = profile_array("share")
    rows = [shares * np.array([KIND_MULTIPLIERS[d.kind].get(c, 1.0) for c in CATEGORIES]) for d in DISTRICTS]
    matrix = np.array(rows)
    return matrix / matrix.sum(axis=1, keepdims=True)


def _festival_offsets(config: SimulationConfig) -> np.ndarray:
    """Day offsets (from start) of the Spring Festivals around the simulated period."""
    years = range(config.start.year - 1, (config.start + timedelta(days=config.days)).year + 2)
    festivals = [_SPRING_FESTIVAL.get(y, date(y, 2, 5)) for y in years]
    return np.array([(f - config.start).days for f in festivals])


def _day_intensity(config: SimulationConfig, category: str) -> np.ndarray:
    """Relative daily intake of a category: season, mild trend, weekends, Spring Festival."""
    days = np.arange(config.days)
    dates = np.datetime64(config.start, "D") + days
    day_of_year = (dates - dates.astype("datetime64[Y]")).astype(np.int64)
    weekday = (dates.astype(np.int64) + 3) % 7  # 0 = Monday
    intensity = (1 + 0.12 * np.sin(2 * np.pi * (day_of_year - 80) / 365)) * (1 + 0.15 * days / 365)
    intensity *= np.where(weekday >= 5, 0.6, 1.0)
    festivals = _festival_offsets(config)
    since = days[:, None] - festivals[None, :]
    intensity *= np.where(((since >= 0) & (since < 7)).any(axis=1), 0.5, 1.0)
    if category == "劳资纠纷":
        before = np.where(since < 0, -since, 10_000).min(axis=1)
        intensity *= 1 + 1.5 * np.exp(-(((before - 20) / 12.0) ** 2))
    return intensity / intensity.sum()


def _draw_open_days(rng: np.random.Generator, category: np.ndarray, config: SimulationConfig) -> np.ndarray:
    """Opening day of each case, following its category's daily intensity."""
    days = np.empty(len(category), dtype=np.int64)
    for c, name in enumerate(CATEGORIES):
        rows = np.flatnonzero(category == c)
        days[rows] = rng.choice(config.days, size=rows.size, p=_day_intensity(config, name))
    return days


def _draw_party_counts(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    """People or households involved: mostly 2, heavy-tailed for crowd categories."""
    n = len(category)
    crowd = profile_array("crowd")[category]
    usual = 1 + rng.geometric(0.8, n)
    usual = np.where(rng.random(n) < 0.1, 1, usual)
    many = np.clip(np.ceil(np.exp(rng.normal(1.3, 0.9, n))) + 1, 2, 300).astype(np.int64)
    return np.where(crowd, many, usual)


def _draw_amounts(rng: np.random.Generator, category: np.ndarray, parties: np.ndarray) -> np.ndarray:
    """Money at stake (CNY): log-normal by category, growing with parties for wage arrears."""
    median = profile_array("amount_median")[category]
    sigma = profile_array("amount_sigma")[category]
    amount = np.exp(rng.normal(np.log(median), sigma))
    amount *= np.where(category == CATEGORIES.index("劳资纠纷"), parties**0.6, 1.0)
    step = np.where(amount < 1_000, 10.0, 100.0)
    return np.maximum(np.round(amount / step) * step, 10.0)


def _draw_entities(
    rng: np.random.Generator, category: np.ndarray, town: np.ndarray, others: np.ndarray, places: Places
) -> np.ndarray:
    """The company / estate / village / project ... a case is about (the other party when none fits)."""
    kinds = profile_array("entity")[category]
    out = others.astype(object).copy()
    for kind, pools in places.entities.items():
        rows = np.flatnonzero(kinds == kind)
        out[rows] = pick_in_town(rng, pools, town[rows])
    return out


def draw_cases(rng: np.random.Generator, config: SimulationConfig, places: Places) -> Cases:
    """The hidden profile of every case, sorted by opening time."""
    n = config.n_cases
    weights = np.array([d.weight for d in DISTRICTS])
    district = rng.choice(len(DISTRICTS), n, p=weights / weights.sum())
    category = choose_rows(rng, _category_matrix()[district])
    opened = _draw_open_days(rng, category, config) * DAY + seconds_of_day(rng, OFFICE_HOURS, n)
    order = np.argsort(opened, kind="stable")
    district, category, opened = district[order], category[order], opened[order]
    town = draw_towns(rng, district, places)
    source_probs = np.array([SOURCE_OVERRIDES.get(c, SOURCE_SHARES) for c in CATEGORIES])
    parties = _draw_party_counts(rng, category)
    amount = _draw_amounts(rng, category, parties)
    base = _baseline_tension(rng, category, amount, parties)
    contacts = draw_names(rng, 3 * n).reshape(n, 3)
    entity = _draw_entities(rng, category, town, contacts[:, 0], places)
    areas = np.where(
        rng.random(n) < 0.8,
        np.array([f"3699{2 * d + 2:02d}" for d in district], dtype=object),
        choose(rng, OUTSIDE_AREAS, n),
    )
    return Cases(
        case_id=_case_ids(opened, config.start),
        opened_sec=opened,
        district=district,
        town=town,
        category=category,
        source=choose_rows(rng, source_probs[category]),
        party_count=parties,
        amount=amount,
        amount_shown=rng.random(n) >= profile_array("amount_missing")[category],
        base_tension=base,
        initial_tension=base + rng.normal(0, 0.5, n),
        call_propensity=rng.normal(0, 0.7, n),
        entity=entity,
        address=draw_addresses(rng, district, town, entity, category, places),
        reporter_name=draw_names(rng, n),
        reporter_phone=draw_phones(rng, n),
        reporter_id=draw_id_numbers(rng, areas),
        contact_names=contacts,
        contact_phones=draw_phones(rng, 3 * n).reshape(n, 3),
    )


def _baseline_tension(
    rng: np.random.Generator, category: np.ndarray, amount: np.ndarray, parties: np.ndarray
) -> np.ndarray:
    """Hidden baseline tension: category, relative money at stake, parties, and an unseen temperament."""
    median, sigma = profile_array("amount_median")[category], profile_array("amount_sigma")[category]
    relative_amount = (np.log(amount) - np.log(median)) / sigma
    temperament = rng.normal(0, 0.55, len(category))
    return profile_array("tension")[category] + 0.2 * relative_amount + 0.2 * np.log(parties) + temperament


def _case_ids(opened_sec: np.ndarray, start: date) -> np.ndarray:
    """Case ids 'FQ<year>-<6-digit sequence within the year>' in opening order."""
    years = (np.datetime64(start, "D") + (opened_sec // DAY)).astype("datetime64[Y]").astype(np.int64) + 1970
    out = np.empty(len(years), dtype=object)
    for year in np.unique(years):
        rows = np.flatnonzero(years == year)
        out[rows] = [f"FQ{year}-{i:06d}" for i in range(1, rows.size + 1)]
    return out
