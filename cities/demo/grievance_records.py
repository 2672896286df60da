"""A group grievance's rows: its cases, their events and its calls as exported, and its truth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from cities.demo.calls import LINK_SHARE
from cities.demo.categories import profile_array
from cities.demo.config import (
    CASE_COLUMNS,
    DAY,
    EVENT_CODE,
    EVENT_COLUMNS,
    EVENT_TYPES,
    GRIEVANCE_COLUMNS,
    HORIZON_DAYS,
    HOTLINE_COLUMNS,
    SimulationConfig,
    truth_as_of_dates,
)
from cities.demo.draws import OFFICE_HOURS, call_seconds, choose, seconds_of_day
from cities.demo.dynamics import ESCALATION_INTERCEPTS, escalation_hazards
from cities.demo.formats import amount_text, blank, format_datetimes, format_late, text_frame
from cities.demo.grievance_names import call_names, thing_naming, topic_texts
from cities.demo.grievance_plan import Grievance, GrievanceCases, ScriptedEvents
from cities.demo.grievance_scenarios import Scenario
from cities.demo.people import caller_names, draw_id_numbers, format_phones
from cities.demo.places import DISTRICTS, Places, draw_addresses
from cities.demo.templates import append_where, render
from cities.demo.texts import CALL_PII
from contracts.vocabulary import CATEGORIES, CHANNELS, EventType

People = tuple[np.ndarray, np.ndarray]  # names and phones of a grievance's callers


@dataclass(frozen=True)
class OpenedCases:
    """The cases a grievance opens as exported: ids, opening seconds and text, money at stake."""

    ids: np.ndarray
    opened_sec: np.ndarray
    opened_text: np.ndarray
    amount: np.ndarray


@dataclass(frozen=True)
class GrievanceCalls:
    """A grievance's hotline rows, their truth links, and how each call names the thing (None: not)."""

    hotline: pd.DataFrame
    links: pd.DataFrame
    named_as: np.ndarray


def _case_ids(existing: np.ndarray, taken: Sequence[str], opened_sec: np.ndarray, start: date) -> np.ndarray:
    """Ids for added cases: the next numbers of their year after every id already used."""
    years = (np.datetime64(start, "D") + opened_sec // DAY).astype("datetime64[Y]").astype(np.int64) + 1970
    used = pd.Series(np.concatenate([existing.astype(object), np.array(taken, dtype=object)]), dtype=object)
    parts = used.str.extract(r"^FQ(\d{4})-(\d{6})$").dropna().astype(int)
    top = parts.groupby(0)[1].max().to_dict()
    out = []
    for year in years.tolist():
        top[year] = top.get(year, 0) + 1
        out.append(f"FQ{year}-{top[year]:06d}")
    return np.array(out, dtype=object)


def _descriptions(
    rng: np.random.Generator,
    grievance: Grievance,
    parties: np.ndarray,
    amount: np.ndarray,
    reporters: np.ndarray,
) -> np.ndarray:
    """What the grievance's cases say: its kind's descriptions, naming the thing in full."""
    n_cases = len(parties)
    return render(
        grievance.scenario.descriptions,
        rng.integers(0, len(grievance.scenario.descriptions), n_cases),
        {
            "entity": np.full(n_cases, grievance.thing, dtype=object),
            "n": parties,
            "amount": amount_text(amount),
            "reporter": reporters,
            "months": rng.integers(2, 7, n_cases),
        },
    )


def case_rows(
    rng: np.random.Generator,
    grievance: Grievance,
    cases: GrievanceCases,
    people: People,
    used_ids: tuple[np.ndarray, Sequence[str]],
    places: Places,
    config: SimulationConfig,
) -> tuple[pd.DataFrame, OpenedCases]:
    """The cases export rows of the grievance's cases (reported by its first callers, ids after every id
    in used_ids: the city's and earlier grievances'), and what their events and truth need."""
    scenario, n_cases = grievance.scenario, cases.day.size
    opened_sec = cases.day * DAY + seconds_of_day(rng, OFFICE_HOURS, n_cases)
    case_ids = _case_ids(*used_ids, opened_sec, config.start)
    amount = np.round(cases.parties * scenario.per_party * rng.uniform(0.7, 1.3, n_cases) / 100) * 100
    towns, districts = np.full(n_cases, grievance.town), np.full(n_cases, grievance.district)
    reporter_names, reporter_phones = people[0][cases.reporter], people[1][cases.reporter]
    descriptions = _descriptions(rng, grievance, cases.parties, amount, reporter_names)
    opened_text = format_datetimes(rng, opened_sec, config.start)
    frame = text_frame(
        CASE_COLUMNS,
        {
            "case_id": case_ids,
            "opened_at": opened_text,
            "district": np.full(n_cases, DISTRICTS[grievance.district].name, dtype=object),
            "town": places.town_names[towns],
            "category": np.full(n_cases, scenario.category, dtype=object),
            "source": choose(rng, ("hotline", "walk_in", "grid_worker"), n_cases),
            "description": descriptions,
            "party_count": np.array([str(p) for p in cases.parties], dtype=object),
            "amount": np.array([f"{a:.0f}" for a in amount], dtype=object),
            "reporter_name": reporter_names,
            "reporter_phone": format_phones(rng, reporter_phones),
            "reporter_id_number": draw_id_numbers(
                rng, np.array([f"3699{2 * grievance.district + 2:02d}"] * n_cases, dtype=object)
            ),
            "address": draw_addresses(
                rng,
                districts,
                towns,
                np.full(n_cases, grievance.thing, dtype=object),
                np.full(n_cases, CATEGORIES.index(scenario.category)),
                places,
            ),
            "recorded_at": np.full(n_cases, None, dtype=object),
        },
    )
    return frame, OpenedCases(case_ids, opened_sec, opened_text, amount)


def _notes(
    rng: np.random.Generator, grievance: Grievance, codes: np.ndarray, parties: np.ndarray
) -> np.ndarray:
    """Short notes of the grievance cases' events."""
    scenario, thing = grievance.scenario, grievance.thing
    people = scenario.people
    templates = {
        EventType.REGISTERED: "受理登记。",
        EventType.ASSIGNED: "已分派至人民调解委员会。",
        EventType.VISIT: f"走访{thing}及{people}代表，{people}情绪激动。",
        EventType.MEDIATION_SESSION: f"组织{thing}与{people}代表进行调解。",
        EventType.MEDIATION_FAILED: f"{thing}负责人未到场，调解未成功。",
        EventType.GROUP_INCIDENT: f"约{{crowd}}名{people}聚集在{scenario.place}讨要说法。",
        EventType.REFERRED: "移交相关部门处理。",
        EventType.MEDIATED: "达成分期支付协议。",
        EventType.CLOSED: "已履行完毕，结案归档。",
    }
    order = tuple(templates)
    picks = np.array([order.index(EVENT_TYPES[c]) for c in codes.tolist()], dtype=np.int64)
    notes = render(tuple(templates.values()), picks, {"crowd": np.maximum(parties, 10)})
    notes[rng.random(len(codes)) >= 0.8] = None
    return notes


def event_rows(
    rng: np.random.Generator,
    grievance: Grievance,
    cases: GrievanceCases,
    opened: OpenedCases,
    events: ScriptedEvents,
    config: SimulationConfig,
) -> pd.DataFrame:
    """The case_events export rows: registered (with the case's own opened_at text) and the scripted
    events, in time order."""
    n_cases = cases.day.size
    rows = np.concatenate([np.arange(n_cases), events.case])
    seconds = np.concatenate([opened.opened_sec, events.seconds])
    codes = np.concatenate([np.full(n_cases, EVENT_CODE[EventType.REGISTERED]), events.code])
    texts = np.concatenate([opened.opened_text, format_datetimes(rng, events.seconds, config.start)])
    order = np.lexsort((np.arange(len(rows)), seconds))
    rows, codes, texts = rows[order], codes[order], texts[order]
    return text_frame(
        EVENT_COLUMNS,
        {
            "case_id": opened.ids[rows],
            "event_at": texts,
            "event_type": np.array([e.value for e in EVENT_TYPES], dtype=object)[codes],
            "note": _notes(rng, grievance, codes, cases.parties[rows]),
            "recorded_at": np.full(len(rows), None, dtype=object),
        },
    )


def _call_districts(rng: np.random.Generator, scenario: Scenario, district: int, n: int) -> np.ndarray:
    """The district of each call: the grievance's, or with scenario.spread another (by size)."""
    weights = np.array([d.weight for d in DISTRICTS])
    weights[district] = 0.0
    elsewhere = rng.choice(len(DISTRICTS), n, p=weights / weights.sum())
    return np.where(rng.random(n) < scenario.spread, elsewhere, district)


def _call_texts(
    rng: np.random.Generator,
    scenario: Scenario,
    names: np.ndarray,
    topics: np.ndarray,
    heat: np.ndarray,
    phones: np.ndarray,
) -> np.ndarray:
    """What the callers say: the thing as each names it and its issue (the topic text where a call names
    no thing), crowd talk as the incident nears, a few phones."""
    n = len(heat)
    picks = rng.integers(0, len(scenario.calls), n)
    amounts = amount_text(np.round(rng.uniform(0.3, 1.5, n) * scenario.per_party / 100) * 100)
    unnamed = pd.isna(names)
    texts = render(
        scenario.calls,
        picks,
        {"entity": np.where(unnamed, "", names), "amount": amounts, "months": rng.integers(2, 7, n)},
    )
    texts[unnamed] = topics[unnamed]
    crowd = rng.random(n) < 0.6 * heat**2
    texts = append_where(rng, texts, crowd, scenario.crowd, {})
    return append_where(rng, texts, rng.random(n) < 0.04, CALL_PII[:2], {"phone": phones})


def call_rows(
    rng: np.random.Generator,
    grievance: Grievance,
    calls: tuple[np.ndarray, np.ndarray],
    people: People,
    opened: OpenedCases,
    first_call: int,
    places: Places,
    config: SimulationConfig,
) -> GrievanceCalls:
    """The hotline rows of the grievance's calls (days and callers), in time order, ids after first_call:
    a caller's call is about their case once it is open, linked by case_id in about LINK_SHARE of those.
    How the calls name the thing (and from which districts) is drawn from a stream of its own, so that
    everything else is the same whatever the config's naming shares."""
    day, caller = calls
    names, phones = people
    scenario, n_cases = grievance.scenario, opened.ids.size
    call_sec = call_seconds(rng, day, np.full(day.size, 0.07))
    order = np.argsort(call_sec, kind="stable")
    call_sec, caller = call_sec[order], caller[order]
    member = caller % max(n_cases, 1)
    about = call_sec > opened.opened_sec[member] if n_cases else np.zeros(day.size, dtype=bool)
    linked = about & (rng.random(day.size) < LINK_SHARE)
    heat = (call_sec / DAY - grievance.onset) / grievance.ramp
    call_ids = np.array([f"HL{first_call + i:08d}" for i in range(1, day.size + 1)], dtype=object)
    case_of_call = opened.ids[member] if n_cases else np.full(day.size, None, dtype=object)
    naming_rng = np.random.default_rng([config.seed, 11, grievance.number])
    naming = thing_naming(grievance.thing, scenario, grievance.district, grievance.town, places)
    named_as = call_names(naming_rng, naming, day.size, config)
    topics = topic_texts(naming_rng, scenario, named_as)
    call_districts = _call_districts(naming_rng, scenario, grievance.district, day.size)
    hotline = text_frame(
        HOTLINE_COLUMNS,
        {
            "call_id": call_ids,
            "received_at": format_datetimes(rng, call_sec, config.start),
            "district": np.array([d.name for d in DISTRICTS], dtype=object)[call_districts],
            "category": choose(rng, scenario.hotline_labels, day.size),
            "text": _call_texts(rng, scenario, named_as, topics, heat, phones[caller]),
            "channel": choose(rng, CHANNELS, day.size, p=np.array([0.65, 0.08, 0.12, 0.15])),
            "case_id": np.where(linked, case_of_call, None),
            "caller_name": caller_names(rng, names[caller]),
            "caller_phone": blank(rng, format_phones(rng, phones[caller], plain_share=0.5), 0.05),
            "recorded_at": format_late(rng, call_sec, 0.03, 1.0, 3.0, config),
        },
    )
    links = pd.DataFrame(
        {
            "call_id": pd.array(call_ids, dtype="str"),
            "true_case_id": pd.Series(np.where(about, case_of_call, None), dtype=object),
            "linked_in_export": linked.astype(bool),
        }
    )
    return GrievanceCalls(hotline, links, named_as)


def _truth_p(scenario: Scenario, parties: np.ndarray, amount: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """Hazard-implied probability of escalation within the horizon at the scripted tension: rising from
    -0.5 at the onset to 2.5 on the day of the incident, 0.5 after it."""
    c = CATEGORIES.index(scenario.category)
    static = ESCALATION_INTERCEPTS + np.column_stack(
        [
            np.full(len(parties), profile_array("violence")[c]),
            profile_array("group")[c] + 0.6 * np.log(parties),
            profile_array("litigation")[c] + 0.35 * np.log1p(amount / 10_000),
        ]
    )
    tension = np.where(heat > 1, 0.5, -0.5 + 3.0 * np.clip(heat, 0, 1))
    return -np.expm1(-HORIZON_DAYS * escalation_hazards(static, tension).sum(axis=1))


def escalation_rows(
    grievance: Grievance,
    cases: GrievanceCases,
    opened: OpenedCases,
    events: ScriptedEvents,
    config: SimulationConfig,
) -> pd.DataFrame:
    """The truth of escalation's rows for the grievance's cases open at its as-of dates."""
    n_cases = cases.day.size
    truth_days = np.array([(d - config.start).days for d in truth_as_of_dates(config)], dtype=np.int64)
    span_case, span_day = np.meshgrid(np.arange(n_cases), truth_days, indexing="ij")
    span_case, span_day = span_case.ravel(), span_day.ravel()
    closed_sec = np.full(n_cases, np.iinfo(np.int64).max)
    closing = events.code == EVENT_CODE[EventType.CLOSED]
    closed_sec[events.case[closing]] = events.seconds[closing]
    is_open = (opened.opened_sec[span_case] < span_day * DAY) & (closed_sec[span_case] >= span_day * DAY)
    span_case, span_day = span_case[is_open], span_day[is_open]
    incident_sec = events.seconds[events.code == EVENT_CODE[EventType.GROUP_INCIDENT]]
    escalated = (
        (span_case == cases.main)
        & (incident_sec.size > 0)
        & (span_day * DAY <= (incident_sec.max(initial=-1)))
        & ((span_day + HORIZON_DAYS) * DAY > incident_sec.max(initial=-1))
    )
    heat = (span_day - grievance.onset) / grievance.ramp
    return pd.DataFrame(
        {
            "as_of": pd.Series([config.start + timedelta(days=int(d)) for d in span_day], dtype=object),
            "case_id": pd.array(opened.ids[span_case].astype(object), dtype="str"),
            "p_escalation": _truth_p(
                grievance.scenario, cases.parties[span_case], opened.amount[span_case], heat
            ).astype(float),
            "escalated": escalated.astype(bool),
        }
    )


def record_rows(
    rng: np.random.Generator,
    grievance: Grievance,
    cases: GrievanceCases,
    opened: OpenedCases,
    events: ScriptedEvents,
    calls: GrievanceCalls,
    config: SimulationConfig,
) -> pd.DataFrame:
    """The grievance's rows of truth_grievances: the thing, onset, first escalation, and one row per case
    and call with how it names the thing."""
    incident_sec = events.seconds[events.code == EVENT_CODE[EventType.GROUP_INCIDENT]]
    first_escalation = (
        format_datetimes(rng, incident_sec[:1], config.start, alt_share=0.0)[0] if incident_sec.size else None
    )
    call_ids = calls.hotline["call_id"].tolist()
    records = [("cases", c, grievance.thing) for c in opened.ids.tolist()]
    records += [("hotline", c, name) for c, name in zip(call_ids, calls.named_as.tolist(), strict=True)]
    return pd.DataFrame(
        {
            "grievance": grievance.number + 1,
            "thing": grievance.thing,
            "thing_kind": grievance.scenario.entity,
            "district": DISTRICTS[grievance.district].name,
            "onset": (config.start + timedelta(days=grievance.onset)).isoformat(),
            "first_escalation_at": first_escalation,
            "escalation_case_id": opened.ids[cases.main] if incident_sec.size else None,
            "record_kind": [kind for kind, _, _ in records],
            "record_id": [record for _, record, _ in records],
            "named_as": pd.Series([name for _, _, name in records], dtype=object),
        },
        columns=list(GRIEVANCE_COLUMNS),
    )
