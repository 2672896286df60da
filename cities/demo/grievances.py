"""Group grievances: many people call about the same company (project, estate ...), a few cases name it,
and a group incident follows on one of them; appended to the city from a random stream of their own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cities.demo.config import (
    CASE_COLUMNS,
    EVENT_COLUMNS,
    GRIEVANCE_COLUMNS,
    HOTLINE_COLUMNS,
    SimulatedCity,
    SimulationConfig,
)
from cities.demo.formats import text_frame
from cities.demo.grievance_plan import (
    Plan,
    call_days,
    callers,
    grievance_cases,
    grievance_plans,
    place_grievance,
    scripted_events,
)
from cities.demo.grievance_records import call_rows, case_rows, escalation_rows, event_rows, record_rows
from cities.demo.people import draw_names, draw_phones
from cities.demo.places import Places


@dataclass(frozen=True)
class GrievanceRows:
    """The rows grievances add (export text, like the rest) and their truth (None: no grievance)."""

    cases: pd.DataFrame
    case_events: pd.DataFrame
    hotline: pd.DataFrame
    truth_escalation: pd.DataFrame | None
    truth_links: pd.DataFrame | None
    truth: pd.DataFrame


def _one_grievance(
    rng: np.random.Generator,
    number: int,
    plan: Plan,
    used: tuple[np.ndarray, Sequence[str], int],
    places: Places,
    config: SimulationConfig,
) -> GrievanceRows:
    """One grievance's rows; used holds the city's case ids, those of earlier grievances, and the number
    of calls before this grievance's."""
    existing_cases, taken, first_call = used
    grievance = place_grievance(rng, number, plan, places, config)
    day = call_days(rng, grievance, config)
    caller = callers(rng, day.size)
    n_callers = int(caller.max()) + 1
    people = draw_names(rng, n_callers), draw_phones(rng, n_callers)
    cases = grievance_cases(rng, grievance, n_callers, config)
    case_frame, opened = case_rows(rng, grievance, cases, people, (existing_cases, taken), places, config)
    events = scripted_events(rng, cases, grievance.incident, config)
    event_frame = event_rows(rng, grievance, cases, opened, events, config)
    calls = call_rows(rng, grievance, (day, caller), people, opened, first_call, places, config)
    return GrievanceRows(
        cases=case_frame,
        case_events=event_frame,
        hotline=calls.hotline,
        truth_escalation=escalation_rows(grievance, cases, opened, events, config),
        truth_links=calls.links,
        truth=record_rows(rng, grievance, cases, opened, events, calls, config),
    )


def _stack(frames: list[pd.DataFrame], columns: Sequence[str]) -> pd.DataFrame:
    """The frames one after the other; an empty text frame of the columns when there is none."""
    if frames:
        return pd.concat(frames, ignore_index=True)
    return text_frame(columns, {c: np.empty(0, dtype=object) for c in columns})


def simulate_grievances(
    rng: np.random.Generator, case_ids: np.ndarray, n_calls: int, places: Places, config: SimulationConfig
) -> GrievanceRows:
    """The rows of config.grievances group grievances (those that fit the period), their case ids after
    case_ids and their call ids after the first n_calls."""
    parts: list[GrievanceRows] = []
    taken: list[str] = []
    for number, plan in enumerate(grievance_plans(rng, config)):
        part = _one_grievance(rng, number, plan, (case_ids, taken, n_calls), places, config)
        parts.append(part)
        taken += part.cases["case_id"].tolist()
        n_calls += len(part.hotline)
    truth = (
        pd.concat([p.truth for p in parts], ignore_index=True)
        if parts
        else pd.DataFrame({c: pd.Series(dtype=object) for c in GRIEVANCE_COLUMNS})
    )
    return GrievanceRows(
        cases=_stack([p.cases for p in parts], CASE_COLUMNS),
        case_events=_stack([p.case_events for p in parts], EVENT_COLUMNS),
        hotline=_stack([p.hotline for p in parts], HOTLINE_COLUMNS),
        truth_escalation=pd.concat([p.truth_escalation for p in parts], ignore_index=True) if parts else None,
        truth_links=pd.concat([p.truth_links for p in parts], ignore_index=True) if parts else None,
        truth=truth,
    )


def with_grievances(city: SimulatedCity, grievances: GrievanceRows) -> SimulatedCity:
    """The city with the grievances' rows appended (the truth of escalation re-sorted by date and case,
    which keeps the order of its other rows)."""
    escalation = city.truth_escalation
    if grievances.truth_escalation is not None:
        escalation = pd.concat([escalation, grievances.truth_escalation], ignore_index=True)
        escalation = escalation.sort_values(["as_of", "case_id"], kind="stable").reset_index(drop=True)
    links = city.truth_links
    if grievances.truth_links is not None:
        links = pd.concat([links, grievances.truth_links], ignore_index=True)
    return SimulatedCity(
        cases=pd.concat([city.cases, grievances.cases], ignore_index=True),
        case_events=pd.concat([city.case_events, grievances.case_events], ignore_index=True),
        hotline=pd.concat([city.hotline, grievances.hotline], ignore_index=True),
        truth_escalation=escalation,
        truth_links=links,
        truth_corruptions=city.truth_corruptions,
        truth_grievances=grievances.truth,
    )
