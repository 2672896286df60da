"""The hotline: calls about cases (partly linked by case_id, in words rising with the tension) mixed with
background calls about nothing in the case log, and the hotline export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from cities.demo.cases import Cases
from cities.demo.categories import CATEGORY_PROFILES, profile_array
from cities.demo.config import DAY, HOTLINE_COLUMNS, SimulationConfig
from cities.demo.draws import call_seconds, choose, choose_rows, sigmoid
from cities.demo.dynamics import History
from cities.demo.formats import amount_text, blank, format_datetimes, format_late, text_frame
from cities.demo.people import caller_names, draw_names, draw_phones, format_phones
from cities.demo.places import DISTRICTS, Places, draw_towns, pick_in_town
from cities.demo.templates import append_where, grouped_templates, render
from cities.demo.texts import BACKGROUND, CALL_BY_CATEGORY, CALL_GENERIC, CALL_PII, CUES, ISSUES
from contracts.vocabulary import CATEGORIES, CHANNELS

LINK_SHARE = 0.45
_BACKGROUND_SHARE = 0.40


@dataclass(frozen=True)
class Calls:
    """All hotline calls in time order, with the case truly behind each (-1: background)."""

    call_id: np.ndarray
    seconds: np.ndarray
    true_case: np.ndarray
    linked: np.ndarray
    district: np.ndarray
    category: np.ndarray
    text: np.ndarray
    channel: np.ndarray
    caller_name: np.ndarray
    caller_phone: np.ndarray
    recorded: np.ndarray


def _hotline_labels(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    """The hotline's own category for calls about cases of the given categories."""
    table = [CATEGORY_PROFILES[c].hotline_labels for c in CATEGORIES]
    labels, picks = grouped_templates(rng, category, table)
    out = np.array(labels, dtype=object)[picks]
    out[rng.random(len(out)) < 0.08] = "咨询"
    return out


def _cue_matrix() -> tuple[tuple[str, ...], np.ndarray]:
    """All escalation cues, and per category the probability of each (by the category's leanings)."""
    cues = tuple(c for group in CUES.values() for c in group)
    leaning = np.column_stack(
        [
            np.exp(profile_array("violence")),
            np.exp(profile_array("group")),
            np.exp(profile_array("litigation")),
            np.full(len(CATEGORIES), 0.3),
        ]
    )
    per_cue = np.column_stack(
        [leaning[:, k] / len(group) for k, group in enumerate(CUES.values()) for _ in group]
    )
    return cues, per_cue / per_cue.sum(axis=1, keepdims=True)


def _case_call_texts(
    rng: np.random.Generator, cases: Cases, rows: np.ndarray, tension: np.ndarray, day: np.ndarray
) -> np.ndarray:
    """What callers about a case say: follow-ups, complaints, escalation cues when tension is high."""
    n = len(rows)
    category = cases.category[rows]
    table = [(*CALL_GENERIC, CALL_BY_CATEGORY[c], CALL_BY_CATEGORY[c]) for c in CATEGORIES]
    templates, picks = grouped_templates(rng, category, table)
    issues, issue_picks = grouped_templates(rng, category, [ISSUES[c] for c in CATEGORIES])
    texts = render(
        templates,
        picks,
        {
            "entity": cases.entity[rows],
            "issue": np.array(issues, dtype=object)[issue_picks],
            "amount": amount_text(cases.amount[rows]),
            "days": day - cases.opened_sec[rows] // DAY,
        },
    )
    cues, cue_probs = _cue_matrix()
    cued = np.flatnonzero(rng.random(n) < sigmoid(2.0 * (tension - 1.8)))
    picked = choose_rows(rng, cue_probs[category[cued]])
    texts[cued] = [t + cues[k] for t, k in zip(texts[cued], picked, strict=True)]
    return append_where(
        rng,
        texts,
        rng.random(n) < 0.04,
        CALL_PII,
        {
            "phone": format_phones(rng, cases.reporter_phone[rows]),
            "id_number": cases.reporter_id[rows],
        },
    )


def _case_callers(
    rng: np.random.Generator, cases: Cases, rows: np.ndarray, linked: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Caller names and phones: mostly the reporter (phone in any style), else another party."""
    n = len(rows)
    reporter = rng.random(n) < np.where(linked, 0.8, 0.65)
    other = rng.integers(0, 3, n)
    names = np.where(reporter, cases.reporter_name[rows], cases.contact_names[rows, other])
    phones = np.where(reporter, cases.reporter_phone[rows], cases.contact_phones[rows, other])
    return caller_names(rng, names), blank(rng, format_phones(rng, phones, plain_share=0.5), 0.05)


def _background_calls(
    rng: np.random.Generator, size: int, places: Places, config: SimulationConfig
) -> dict[str, np.ndarray]:
    """Calls about nothing in the case log: noise, utilities, consultations... with their own callers."""
    weights = np.array([d.weight for d in DISTRICTS])
    district = rng.choice(len(DISTRICTS), size, p=weights / weights.sum())
    town = draw_towns(rng, district, places)
    picks = rng.integers(0, len(BACKGROUND), size)
    fields = {
        kind: pick_in_town(rng, places.entities[kind], town)
        for kind in ("estate", "road", "company", "store")
    }
    texts = render(tuple(t for _, t in BACKGROUND), picks, fields)
    phones = draw_phones(rng, size)
    texts = append_where(rng, texts, rng.random(size) < 0.03, CALL_PII[:2], {"phone": phones})
    return {
        "seconds": call_seconds(rng, rng.integers(0, config.days, size), np.full(size, 0.07)),
        "district": district,
        "category": np.array([c for c, _ in BACKGROUND], dtype=object)[picks],
        "text": texts,
        "caller_name": caller_names(rng, draw_names(rng, size)),
        "caller_phone": blank(rng, format_phones(rng, phones, plain_share=0.5), 0.05),
    }


def draw_calls(
    rng: np.random.Generator, cases: Cases, history: History, places: Places, config: SimulationConfig
) -> Calls:
    """Calls about cases (partly linked by case_id) mixed with background calls, in time order."""
    rows, day, tension = history.call_case, history.call_day, history.call_tension
    n = len(rows)
    linked = rng.random(n) < LINK_SHARE
    names, phones = _case_callers(rng, cases, rows, linked)
    about_cases = {
        "seconds": call_seconds(rng, day, sigmoid(-2.6 + 0.6 * tension)),
        "district": cases.district[rows],
        "category": _hotline_labels(rng, cases.category[rows]),
        "text": _case_call_texts(rng, cases, rows, tension, day),
        "caller_name": names,
        "caller_phone": phones,
    }
    n_background = round(n * _BACKGROUND_SHARE / (1 - _BACKGROUND_SHARE))
    background = _background_calls(rng, n_background, places, config)
    merged = {k: np.concatenate([about_cases[k], background[k]]) for k in about_cases}
    true_case = np.concatenate([rows, np.full(n_background, -1)])
    is_linked = np.concatenate([linked, np.zeros(n_background, bool)])
    order = np.lexsort((np.arange(len(true_case)), merged["seconds"]))
    total = len(true_case)
    return Calls(
        call_id=np.array([f"HL{i:08d}" for i in range(1, total + 1)], dtype=object),
        seconds=merged["seconds"][order],
        true_case=true_case[order],
        linked=is_linked[order],
        district=merged["district"][order],
        category=merged["category"][order],
        text=merged["text"][order],
        channel=choose(rng, CHANNELS, total, p=np.array([0.65, 0.08, 0.12, 0.15])),
        caller_name=merged["caller_name"][order],
        caller_phone=merged["caller_phone"][order],
        recorded=format_late(rng, merged["seconds"][order], 0.03, 1.0, 3.0, config),
    )


def hotline_export(rng: np.random.Generator, calls: Calls, cases: Cases, start: date) -> pd.DataFrame:
    """The hotline export (all columns text, missing as NA)."""
    district_names = np.array([d.name for d in DISTRICTS], dtype=object)
    true_case = calls.true_case.astype(np.int64)
    case_ids = np.where(calls.linked, cases.case_id[np.maximum(true_case, 0)], None)
    return text_frame(
        HOTLINE_COLUMNS,
        {
            "call_id": calls.call_id,
            "received_at": format_datetimes(rng, calls.seconds, start),
            "district": district_names[calls.district.astype(np.int64)],
            "category": calls.category,
            "text": calls.text,
            "channel": calls.channel,
            "case_id": case_ids,
            "caller_name": calls.caller_name,
            "caller_phone": calls.caller_phone,
            "recorded_at": calls.recorded,
        },
    )
