"""A group grievance's plan: its thing and place, when it starts and peaks, who calls, the cases it opens
and their scripted events (the rows they become are in grievance_records)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cities.demo.config import DAY, EVENT_CODE, SimulationConfig
from cities.demo.draws import ANY_HOURS, OFFICE_HOURS, seconds_of_day
from cities.demo.grievance_scenarios import PLAIN_SCENARIOS, SCENARIOS, Scenario
from cities.demo.places import DISTRICTS, WORDS, Places, draw_towns
from contracts.vocabulary import EventType

_BASELINE_DAYS = 63  # history before the onset, when the period allows (a detector's baseline)
_FIRST_RATE = 0.5  # calls a day at the onset ...
_PEAK_RATE = (6.0, 10.0)  # ... growing exponentially to this on the day of the incident
_RAMP_DAYS = (16, 25)  # onset to incident
_AFTER_DAYS = 14  # calls go on, halving every two days, after the incident
_NEW_CALLER = 0.75  # share of calls from someone who has not called about it yet
_EMERGING_DAYS = (10, 15)  # the last of several grievances starts this long before the end

Plan = tuple[int, int, bool]  # onset day, days to the incident, incident within the period


@dataclass(frozen=True)
class Grievance:
    """One grievance: its number (from 0), kind, district, town and named thing, and its timing."""

    number: int
    scenario: Scenario
    district: int
    town: int
    thing: str
    onset: int  # day of the first call
    ramp: int  # days from the onset to the incident
    incident: int | None  # day of the incident, None when it falls after the period


@dataclass(frozen=True)
class GrievanceCases:
    """The cases a grievance opens: positions of their reporters among the callers, days, sizes."""

    reporter: np.ndarray
    day: np.ndarray
    parties: np.ndarray
    main: int  # the case on which the incident happens


@dataclass(frozen=True)
class ScriptedEvents:
    """The grievance cases' events after registration: case position, seconds and event code."""

    case: np.ndarray
    seconds: np.ndarray
    code: np.ndarray


def grievance_plans(rng: np.random.Generator, config: SimulationConfig) -> list[Plan]:
    """A plan per grievance that fits: the last of several is still emerging at the end of the period;
    the others escalate within it, their onsets in consecutive parts of the period after a baseline."""
    n = config.grievances
    emerging = 1 if n >= 2 else 0
    ramps = rng.integers(_RAMP_DAYS[0], _RAMP_DAYS[1] + 1, n)
    first = min(_BASELINE_DAYS, config.days // 2)
    last = config.days - _RAMP_DAYS[1] - 5
    plans = []
    bounds = np.linspace(first, max(last, first), n - emerging + 1)
    for g in range(n - emerging):
        low, high = int(bounds[g]), int(max(bounds[g + 1], bounds[g] + 1))
        if last >= first:
            plans.append((int(rng.integers(low, high)), int(ramps[g]), True))
    if emerging:
        onset = config.days - int(rng.integers(*_EMERGING_DAYS))
        if onset > 0:
            plans.append((onset, int(ramps[-1]), onset + int(ramps[-1]) < config.days))
    return plans


def place_grievance(
    rng: np.random.Generator, number: int, plan: Plan, places: Places, config: SimulationConfig
) -> Grievance:
    """The grievance of the plan: its kind in turn, a district of that kind (by size), a town, and a thing
    of the town's pool (or a word and one of the kind's suffixes for kinds the city keeps no pool of)."""
    onset, ramp, escalates = plan
    scenarios = SCENARIOS if config.grievance_more_kinds else SCENARIOS[:PLAIN_SCENARIOS]
    scenario = scenarios[number % len(scenarios)]
    weights = np.array([d.weight * (d.kind == scenario.district_kind) for d in DISTRICTS])
    district = int(rng.choice(len(DISTRICTS), p=weights / weights.sum()))
    town = int(draw_towns(rng, np.array([district]), places)[0])
    if scenario.entity not in places.entities:
        word = WORDS[int(rng.integers(len(WORDS)))]
        thing = word + scenario.names[int(rng.integers(len(scenario.names)))]
    else:
        pool = places.entities[scenario.entity][town]
        thing = str(pool[rng.integers(0, len(pool))])
    incident = onset + ramp if escalates else None
    return Grievance(number, scenario, district, town, thing, onset, ramp, incident)


def call_days(rng: np.random.Generator, grievance: Grievance, config: SimulationConfig) -> np.ndarray:
    """The day of each call: a Poisson count per day, rising exponentially to the incident, then halving
    every two days."""
    onset, ramp = grievance.onset, grievance.ramp
    peak = rng.uniform(*_PEAK_RATE)
    days = np.arange(onset, min(onset + ramp + _AFTER_DAYS, config.days))
    since = days - onset
    rate = np.where(
        since <= ramp,
        _FIRST_RATE * (peak / _FIRST_RATE) ** (since / ramp),
        peak * 0.5 ** ((since - ramp) / 2.0),
    )
    counts = rng.poisson(rate)
    counts[0] = max(counts[0], 1)
    return np.repeat(days, counts)


def callers(rng: np.random.Generator, n_calls: int) -> np.ndarray:
    """Per call, the index of its caller: mostly someone new, else one who called before."""
    new = rng.random(n_calls) < _NEW_CALLER
    new[0] = True
    seen_before = np.cumsum(new) - new  # new callers before each call
    again = np.minimum((rng.random(n_calls) * np.maximum(seen_before, 1)).astype(np.int64), seen_before - 1)
    return np.where(new, seen_before, np.maximum(again, 0))


def grievance_cases(
    rng: np.random.Generator, grievance: Grievance, n_callers: int, config: SimulationConfig
) -> GrievanceCases:
    """2-4 cases opened from a third of the way to the incident until a week before it; the incident
    happens on the largest."""
    onset, ramp = grievance.onset, grievance.ramp
    k = int(rng.integers(2, 5))
    first, last = onset + max(ramp // 3, 1), onset + ramp - 7
    day = np.sort(rng.integers(first, max(last, first) + 1, k))
    parties = rng.integers(12, 60, k)
    keep = day < config.days
    day, parties = day[keep], parties[keep]
    reporter = np.minimum(np.arange(day.size), max(n_callers - 1, 0))
    return GrievanceCases(reporter, day, parties, int(np.argmax(parties)) if day.size else -1)


def _scripted_days(cases: GrievanceCases, incident: int | None) -> list[tuple[int, int, EventType]]:
    """(case position, day, event) of the cases' scripted process: assigned, a visit and a failed session
    before the incident; after it, the incident on the main case, then sessions, agreements, closing."""
    script = []
    for case, opened in enumerate(cases.day.tolist()):
        before = [(1, EventType.ASSIGNED), (3, EventType.VISIT), (5, EventType.MEDIATION_SESSION)]
        for offset, event in before:
            if incident is None or opened + offset < incident:
                script.append((case, opened + offset, event))
        if incident is None or opened + 5 < incident:
            script.append((case, opened + 5, EventType.MEDIATION_FAILED))
        if incident is None:
            continue
        if case == cases.main:
            script.append((case, incident, EventType.GROUP_INCIDENT))
            script.append((case, incident + 1, EventType.REFERRED))
            later = ((6, EventType.MEDIATION_SESSION), (6, EventType.MEDIATED), (20, EventType.CLOSED))
        else:
            later = ((4, EventType.MEDIATION_SESSION), (4, EventType.MEDIATED), (18, EventType.CLOSED))
        script += [(case, incident + offset, event) for offset, event in later]
    return script


def scripted_events(
    rng: np.random.Generator, cases: GrievanceCases, incident: int | None, config: SimulationConfig
) -> ScriptedEvents:
    """The cases' events after registration that fall in the period, at office hours (the incident at
    any hour), an outcome an hour after its session."""
    script = [(case, day, event) for case, day, event in _scripted_days(cases, incident) if day < config.days]
    case_at = np.array([case for case, _, _ in script], dtype=np.int64)
    day_at = np.array([day for _, day, _ in script], dtype=np.int64)
    code_at = np.array([EVENT_CODE[event] for _, _, event in script], dtype=np.int64)
    escalation = code_at == EVENT_CODE[EventType.GROUP_INCIDENT]
    seconds = day_at * DAY + seconds_of_day(rng, OFFICE_HOURS, len(day_at))
    seconds[escalation] = day_at[escalation] * DAY + seconds_of_day(rng, ANY_HOURS, int(escalation.sum()))
    outcome = np.isin(code_at, [EVENT_CODE[EventType.MEDIATION_FAILED], EVENT_CODE[EventType.MEDIATED]])
    # An outcome follows its session on the same day (the session is the row before it).
    seconds[outcome] = np.minimum(
        seconds[np.flatnonzero(outcome) - 1] + 3600, day_at[outcome] * DAY + DAY - 1
    )
    return ScriptedEvents(case_at, seconds, code_at)
