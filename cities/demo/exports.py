"""The cases and case_events exports of the simulated cases (all columns text, missing as NA)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cities.demo.cases import Cases
from cities.demo.config import (
    CASE_COLUMNS,
    DAY,
    ESCALATION_CODES,
    EVENT_CODE,
    EVENT_COLUMNS,
    EVENT_TYPES,
    SimulationConfig,
)
from cities.demo.draws import ANY_HOURS, OFFICE_HOURS, choose, seconds_of_day, sigmoid
from cities.demo.dynamics import History
from cities.demo.formats import amount_text, blank, format_datetimes, format_late, text_frame
from cities.demo.people import format_phones
from cities.demo.places import DISTRICTS, Places
from cities.demo.templates import append_where, grouped_templates, render
from cities.demo.texts import (
    DEPARTMENTS,
    DESCRIPTIONS,
    GATHER_PLACES,
    ISSUES,
    MOOD_HIGH,
    MOOD_LOW,
    NOTES,
    PII_SNIPPETS,
    TENSION_HINTS,
)
from contracts.vocabulary import CATEGORIES, SOURCES, EventType


@dataclass(frozen=True)
class CaseTimes:
    """Export text of each case's opened_at and recorded_at (shared with its registered event)."""

    opened: np.ndarray
    recorded: np.ndarray


def draw_case_times(rng: np.random.Generator, cases: Cases, config: SimulationConfig) -> CaseTimes:
    """Opened-at text and, for ~5% of cases, a late recorded-at 1-10 days after opening."""
    return CaseTimes(
        opened=format_datetimes(rng, cases.opened_sec, config.start),
        recorded=format_late(rng, cases.opened_sec, 0.05, 1.0, 10.0, config),
    )


def _descriptions(rng: np.random.Generator, cases: Cases) -> np.ndarray:
    """Free-text complaints: category templates, tension hints, sometimes the reporter's phone or ID."""
    n = len(cases.case_id)
    templates, picks = grouped_templates(rng, cases.category, [DESCRIPTIONS[c] for c in CATEGORIES])
    issues, issue_picks = grouped_templates(rng, cases.category, [ISSUES[c] for c in CATEGORIES])
    texts = render(
        templates,
        picks,
        {
            "reporter": cases.reporter_name,
            "other": cases.contact_names[:, 0],
            "entity": cases.entity,
            "issue": np.array(issues, dtype=object)[issue_picks],
            "amount": amount_text(cases.amount),
            "n": cases.party_count,
            "months": rng.integers(1, 13, n),
        },
    )
    hinted = rng.random(n) < sigmoid(2.0 * (cases.initial_tension - 1.5))
    texts = append_where(rng, texts, hinted, TENSION_HINTS, {})
    with_pii = rng.random(n) < 0.03
    return append_where(
        rng,
        texts,
        with_pii,
        PII_SNIPPETS,
        {
            "phone": format_phones(rng, cases.reporter_phone),
            "id_number": cases.reporter_id,
        },
    )


def cases_export(rng: np.random.Generator, cases: Cases, times: CaseTimes, places: Places) -> pd.DataFrame:
    """The cases export (all columns text, missing as NA)."""
    district_names = np.array([d.name for d in DISTRICTS], dtype=object)
    amount = np.where(cases.amount_shown, [f"{a:.0f}" for a in cases.amount], None)
    return text_frame(
        CASE_COLUMNS,
        {
            "case_id": cases.case_id,
            "opened_at": times.opened,
            "district": district_names[cases.district],
            "town": blank(rng, places.town_names[cases.town], 0.03),
            "category": np.array(CATEGORIES, dtype=object)[cases.category],
            "source": blank(rng, np.array(SOURCES, dtype=object)[cases.source], 0.05),
            "description": _descriptions(rng, cases),
            "party_count": np.array([str(p) for p in cases.party_count], dtype=object),
            "amount": amount,
            "reporter_name": blank(rng, cases.reporter_name, 0.05),
            "reporter_phone": blank(rng, format_phones(rng, cases.reporter_phone), 0.05),
            "reporter_id_number": blank(rng, cases.reporter_id, 0.15),
            "address": blank(rng, cases.address, 0.10),
            "recorded_at": times.recorded,
        },
    )


def _within_day_times(
    rng: np.random.Generator, case: np.ndarray, day: np.ndarray, seq: np.ndarray, hours: np.ndarray
) -> np.ndarray:
    """Seconds of the event times: random times of day, ordered within a case's day as generated."""
    seconds = np.empty(len(case), dtype=np.int64)
    for profile in np.unique(hours):
        rows = np.flatnonzero(hours == profile)
        seconds[rows] = seconds_of_day(rng, ANY_HOURS if profile else OFFICE_HOURS, rows.size)
    by_seq = np.lexsort((seq, day, case))
    by_time = np.lexsort((seconds, day, case))
    ordered = np.empty_like(seconds)
    ordered[by_seq] = seconds[by_time]
    return day * DAY + ordered


def _event_notes(
    rng: np.random.Generator,
    cases: Cases,
    places: Places,
    rows: np.ndarray,
    codes: np.ndarray,
    tension: np.ndarray,
) -> np.ndarray:
    """Short Chinese notes for ~60% of events (a few mention a phone number)."""
    n = len(rows)
    templates, picks = grouped_templates(rng, codes, [NOTES[e] for e in EVENT_TYPES])
    agitated = (tension > 1.0) & (rng.random(n) < 0.7)
    moods = np.where(agitated, choose(rng, MOOD_HIGH, n), choose(rng, MOOD_LOW, n))
    town = cases.town[rows]
    mediators = np.array(
        [places.mediators[t][i] for t, i in zip(town.tolist(), rng.integers(0, 3, n).tolist(), strict=True)],
        dtype=object,
    )
    notes = render(
        templates,
        picks,
        {
            "town": places.town_names[town],
            "mediator": mediators,
            "mood": moods,
            "phone": format_phones(rng, cases.reporter_phone[rows]),
            "dept": choose(rng, DEPARTMENTS, n),
            "crowd": np.maximum(cases.party_count[rows], 10),
            "place": choose(rng, GATHER_PLACES, n),
        },
    )
    notes[rng.random(n) >= 0.6] = None
    return notes


def events_export(
    rng: np.random.Generator,
    cases: Cases,
    history: History,
    times: CaseTimes,
    places: Places,
    config: SimulationConfig,
) -> pd.DataFrame:
    """The case_events export: registered at opening, then the simulated history, in time order."""
    n = len(cases.case_id)
    escalation = np.isin(history.event_code, ESCALATION_CODES)
    seconds = _within_day_times(rng, history.event_case, history.event_day, history.event_seq, escalation)
    rows = np.concatenate([np.arange(n), history.event_case])
    codes = np.concatenate([np.full(n, EVENT_CODE[EventType.REGISTERED]), history.event_code])
    when = np.concatenate([cases.opened_sec, seconds])
    event_at = np.concatenate([times.opened, format_datetimes(rng, seconds, config.start)])
    recorded = np.concatenate([times.recorded, format_late(rng, seconds, 0.05, 1.0, 14.0, config)])
    tension = np.concatenate([cases.initial_tension, history.event_tension])
    order = np.lexsort((np.arange(len(rows)), when))
    rows, codes, event_at, recorded, tension = (
        rows[order],
        codes[order],
        event_at[order],
        recorded[order],
        tension[order],
    )
    return text_frame(
        EVENT_COLUMNS,
        {
            "case_id": cases.case_id[rows],
            "event_at": event_at,
            "event_type": np.array([e.value for e in EVENT_TYPES], dtype=object)[codes],
            "note": _event_notes(rng, cases, places, rows, codes, tension),
            "recorded_at": recorded,
        },
    )
