"""The Hawkes city's exports (cases, case_events, hotline) as text frames, with the times the truth needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from cities.mechanics import Mechanics, branching
from cities.people import Callers, id_numbers, names, phones, pick_phones
from cities.population import BASE_INTENSITY, Population, season
from cities.process import KIND, KINDS, History
from cities.scenario import HawkesScenario
from cities.texts import background_texts, call_texts, descriptions, notes
from cities.vocabulary import CATEGORIES, CHANNEL_SHARES, CHANNELS, DISTRICTS, SOURCES
from contracts.fields import field_specs
from contracts.vocabulary import RecordKind

# The contract's columns, in its order.
CASE_COLUMNS = tuple(spec.name for spec in field_specs(RecordKind.CASES))
EVENT_COLUMNS = tuple(spec.name for spec in field_specs(RecordKind.CASE_EVENTS))
HOTLINE_COLUMNS = tuple(spec.name for spec in field_specs(RecordKind.HOTLINE))
_DAY = 86_400
# The truth of the calls: which case each is about (None for background calls), as the demo city's.
LINK_TRUTH_COLUMNS = ("call_id", "true_case_id", "linked_in_export")
_EXPORTED_TYPE = {k: ("visit" if k == "conflict_visit" else k) for k in KINDS}


@dataclass(frozen=True)
class StatusTimes:
    """The exported closed/reopened events, for the truth's cohort: case row, seconds, known seconds."""

    case: np.ndarray
    at: np.ndarray
    known: np.ndarray
    reopened: np.ndarray


def stamps(rng: np.random.Generator, seconds: np.ndarray, start: date) -> np.ndarray:
    """Seconds since start as export text: mostly 'YYYY/MM/DD HH:MM', some ISO, some 'YYYY年MM月DD日'."""
    times = pd.Series(pd.Timestamp(start) + pd.to_timedelta(seconds, unit="s"))
    out = times.dt.strftime("%Y/%m/%d %H:%M").to_numpy(dtype=object)
    style = rng.random(len(seconds))
    iso, chinese = style < 0.15, style > 0.95
    out[iso] = times[iso].dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(dtype=object)
    out[chinese] = times[chinese].dt.strftime("%Y年%m月%d日 %H:%M").to_numpy(dtype=object)
    return out


def case_ids(pop: Population, start: date) -> np.ndarray:
    """Case numbers: LC + two-digit year + district number + a running number, e.g. LC24-3000123."""
    year = (pd.Timestamp(start) + pd.to_timedelta(pop.opened_day, unit="D")).year.to_numpy() % 100
    return np.array(
        [f"LC{y:02d}-{d + 1}{i:06d}" for i, (y, d) in enumerate(zip(year, pop.district, strict=True))],
        dtype=object,
    )


def _late(rng: np.random.Generator, seconds: np.ndarray, rate: float) -> np.ndarray:
    """Knowledge seconds: the record's own time, or 1-10 days later for a `rate` share (late entries)."""
    late = rng.random(len(seconds)) < rate
    return np.where(
        late,
        seconds + rng.integers(1, 11, len(seconds)) * _DAY + rng.integers(0, 8, len(seconds)) * 3600,
        seconds,
    )


def _text_or_na(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    out = values.astype(object).copy()
    out[~present] = None
    return out


def cases_frame(
    rng: np.random.Generator, scenario: HawkesScenario, pop: Population, ids: np.ndarray, callers: Callers
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The cases export; also each case's opening and knowledge seconds."""
    opened = pop.opened_day * _DAY + pop.opened_second // 60 * 60
    known = _late(rng, opened, scenario.late_entry_rate)
    n = pop.size
    agitation = pop.intake_intensity / BASE_INTENSITY
    amount_known = ~np.isnan(pop.amount)
    frame = pd.DataFrame(
        {
            "case_id": ids,
            "opened_at": stamps(rng, opened, scenario.start),
            "district": np.array([d.name for d in DISTRICTS], dtype=object)[pop.district],
            "town": _text_or_na(pop.town, rng.random(n) < 0.93),
            "category": np.array([c.name for c in CATEGORIES], dtype=object)[pop.category],
            "source": _text_or_na(np.array(SOURCES, dtype=object)[pop.source], rng.random(n) < 0.9),
            "description": descriptions(rng, pop.category, pop.parties, pop.amount, agitation),
            "party_count": _text_or_na(pop.parties.astype(str), rng.random(n) < 0.95),
            "amount": _text_or_na(np.nan_to_num(pop.amount).astype(np.int64).astype(str), amount_known),
            "reporter_name": callers.name[callers.first],
            "reporter_phone": callers.phones[callers.first, 0],
            "reporter_id_number": _text_or_na(id_numbers(rng, n), rng.random(n) < 0.6),
            "address": _text_or_na(
                pop.town + np.char.add(rng.integers(1, 300, n).astype(str), "号").astype(object),
                rng.random(n) < 0.5,
            ),
            "recorded_at": _text_or_na(stamps(rng, known, scenario.start), known > opened),
        }
    )
    return frame, opened, known


def events_frame(
    rng: np.random.Generator,
    scenario: HawkesScenario,
    m: Mechanics,
    history: History,
    ids: np.ndarray,
    opened: np.ndarray,
    case_known: np.ndarray,
) -> tuple[pd.DataFrame, StatusTimes]:
    """The case_events export; also the exported status events' times (for the truth's cohort)."""
    case, day, kind = history.event_case, history.event_day, history.event_kind
    n = len(case)
    escalation = np.isin(kind, [KIND["violence"], KIND["group_incident"], KIND["litigation"]])
    low = np.where(escalation, 0, 7 * 3600 + 1800)
    high = np.where(escalation, _DAY - 60, 21 * 3600 + 1800)
    first_day = day == opened[case] // _DAY
    low = np.where(first_day, np.maximum(low, opened[case] % _DAY + 60), low)
    high = np.maximum(high, low + 60)
    at = day * _DAY + (low + rng.random(n) * (high - low)).astype(np.int64) // 60 * 60
    registered = kind == KIND["registered"]
    at[registered] = opened[case[registered]]
    known = np.maximum(_late(rng, at, scenario.late_entry_rate), case_known[case])
    known[registered] = case_known[case[registered]]
    exported = np.array([_EXPORTED_TYPE[k] for k in KINDS], dtype=object)[kind]
    level = history.event_intensity / (BASE_INTENSITY / (1.0 - branching(m)))
    frame = pd.DataFrame(
        {
            "case_id": ids[case],
            "_at": at,
            "event_type": exported,
            "note": notes(rng, kind, KINDS, level, m.note_cues, scenario.negation_rate),
            "_known": known,
            "_case": case,
            "_kind": kind,
        }
    )
    frame = frame.drop_duplicates(["case_id", "_at", "event_type"]).sort_values(
        ["_at", "case_id"], kind="stable"
    )
    status = frame[frame["_kind"].isin([KIND["closed"], KIND["reopened"]])]
    times = StatusTimes(
        case=status["_case"].to_numpy(),
        at=status["_at"].to_numpy(),
        known=status["_known"].to_numpy(),
        reopened=(status["_kind"] == KIND["reopened"]).to_numpy(),
    )
    out = pd.DataFrame(
        {
            "case_id": frame["case_id"].to_numpy(),
            "event_at": stamps(rng, frame["_at"].to_numpy(), scenario.start),
            "event_type": frame["event_type"].to_numpy(),
            "note": frame["note"].to_numpy(),
            "recorded_at": _text_or_na(
                stamps(rng, frame["_known"].to_numpy(), scenario.start),
                (frame["_known"] > frame["_at"]).to_numpy(),
            ),
        }
    )
    return out, times


def hotline_frame(
    rng: np.random.Generator,
    scenario: HawkesScenario,
    m: Mechanics,
    pop: Population,
    history: History,
    ids: np.ndarray,
    callers: Callers,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The hotline export: calls about cases (case number quoted at the scenario's rate) and background
    calls about no case (from a pool of frequent callers, some of them also reporters of cases); and the
    truth of which case each call is about (LINK_TRUTH_COLUMNS, by call_id; no case for background)."""
    case, day = history.call_case, history.call_day
    level = history.call_intensity / (BASE_INTENSITY / (1.0 - branching(m)))
    n = len(case)
    stranger = (pop.parties[case] >= 3) & (
        rng.random(n) < m.new_callers / (1.0 + np.exp(-2.0 * (level - 2.0)))
    )
    name, phone = pick_phones(rng, callers, case, stranger)
    night = rng.random(n) < 0.05 + 0.2 / (1.0 + np.exp(-2.0 * (level - 2.5)))
    minute = np.where(night, rng.integers(21 * 60, 24 * 60, n), rng.integers(7 * 60, 21 * 60, n))
    at = day * _DAY + minute * 60
    at = np.maximum(at, (pop.opened_day[case] * _DAY + pop.opened_second[case]) // 60 * 60 + 60)
    labels = np.array([c.hotline_label for c in CATEGORIES], dtype=object)
    case_calls = pd.DataFrame(
        {
            "_at": at,
            "district": np.array([d.name for d in DISTRICTS], dtype=object)[pop.district[case]],
            "category": _text_or_na(labels[pop.category[case]], rng.random(n) < 0.85),
            "text": call_texts(rng, pop.category[case], level, m.call_cues, scenario.negation_rate),
            "case_id": _text_or_na(ids[case], rng.random(n) < scenario.case_number_quote_rate),
            "caller_name": _text_or_na(name, rng.random(n) < 0.5),
            "caller_phone": phone,
            "_true": ids[case],
        }
    )
    calls = pd.concat([case_calls, _background(rng, scenario, pop, callers, n // 3)], ignore_index=True)
    calls = calls.sort_values("_at", kind="stable", ignore_index=True)
    size = len(calls)
    channel = rng.choice(len(CHANNELS), size=size, p=np.array(CHANNEL_SHARES) / sum(CHANNEL_SHARES))
    call_ids = np.array([f"RX{i:08d}" for i in range(1, size + 1)], dtype=object)
    truth = pd.DataFrame(
        {
            "call_id": call_ids,
            "true_case_id": calls["_true"].to_numpy(dtype=object),
            "linked_in_export": calls["case_id"].notna().to_numpy(),
        }
    )
    hotline = pd.DataFrame(
        {
            "call_id": call_ids,
            "received_at": stamps(rng, calls["_at"].to_numpy(), scenario.start),
            "district": calls["district"].to_numpy(),
            "category": calls["category"].to_numpy(),
            "text": calls["text"].to_numpy(),
            "channel": np.array(CHANNELS, dtype=object)[channel],
            "case_id": calls["case_id"].to_numpy(),
            "caller_name": calls["caller_name"].to_numpy(),
            "caller_phone": calls["caller_phone"].to_numpy(),
            "recorded_at": None,
        }
    )
    return hotline, truth


def _background(
    rng: np.random.Generator, scenario: HawkesScenario, pop: Population, callers: Callers, size: int
) -> pd.DataFrame:
    """Calls about no case: seasonal days, weighted districts, a Zipf pool of repeat callers."""
    days = np.arange(scenario.days)
    weights = season(scenario, days, 200.0)
    day = rng.choice(scenario.days, size=size, p=weights / weights.sum())
    pool = max(50, pop.size // 5)
    pool_phone, pool_name = phones(rng, pool), names(rng, pool)
    reporters = rng.random(pool) < 0.05  # some frequent callers are also reporters of cases
    pick = rng.integers(0, pop.size, int(reporters.sum()))
    pool_phone[reporters] = callers.phones[callers.first[pick], 0]
    pool_name[reporters] = callers.name[callers.first[pick]]
    rank = np.arange(1, pool + 1)
    who = rng.choice(pool, size=size, p=(1.0 / rank) / (1.0 / rank).sum())
    district_weights = np.array([d.weight for d in DISTRICTS])
    district = rng.choice(len(DISTRICTS), size=size, p=district_weights / district_weights.sum())
    labels = np.array([c.hotline_label for c in CATEGORIES] + ["城市管理", "政策咨询"], dtype=object)
    return pd.DataFrame(
        {
            "_at": day * _DAY + rng.integers(7 * 60, 22 * 60, size) * 60,
            "district": np.array([d.name for d in DISTRICTS], dtype=object)[district],
            "category": labels[rng.integers(0, len(labels), size)],
            "text": background_texts(rng, size, scenario.decoy_rate),
            "case_id": None,
            "caller_name": _text_or_na(pool_name[who], rng.random(size) < 0.5),
            "caller_phone": pool_phone[who],
        }
    )
