"""Activity features: how often and how recently each kind of event, and each channel of calls about the
case, happened; and the last few event types. The same measures for every event type and channel of the
contract, so they fit whatever kind of activity carries the risk in a city's records.

Measures, from the records known before the instant and dated before it:
- counts in the windows [instant - days, instant) of WINDOWS_DAYS;
- decayed counts: the sum over the events of 0.5 ** (age in days / half-life), for HALF_LIVES_DAYS;
- days since the last one (days since opening when there was none: the counts then say "never");
- for event types, a rate: events since opening per RATE_PER_DAYS days of case age (age floored at
  RATE_MIN_AGE_DAYS days, so that a case opened yesterday is not ranked by one event over a day).
Calls about the case are those of `hotline_activity.calls_about_cases` (linked by case_id, or without a
case_id from the reporter's phone since opening); their channel is read trimmed and in any case, and a
call with no channel or one outside the contract's CHANNELS counts only among all channels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from contracts.vocabulary import CHANNELS, EventType
from features.case_history import EVENT_WORDS, counts_per_slot, latest_per_slot
from features.dictionary import FeatureDoc
from features.hotline_activity import calls_about_cases, channel_names
from features.sources import Sources, is_blank, positions

PREFIX = "activity_"
WINDOWS_DAYS = (7, 30, 90, 365)
HALF_LIVES_DAYS = (7, 30)
RATE_PER_DAYS = 30
RATE_MIN_AGE_DAYS = 7
CALLERS_HALF_LIFE_DAYS = 30
_LATEST = ("latest", "second latest", "third latest")
LAST_TYPES = len(_LATEST)
NONE = "none"
ALL_CHANNELS = "all"
# Every event type but the registration (its count is one and its date the opening, which profile has).
EVENT_TYPES: tuple[EventType, ...] = tuple(t for t in EventType if t is not EventType.REGISTERED)
_EVENT_ORDER = pd.Index([t.value for t in EventType])  # lifecycle order: breaks ties between equal times
# How the contract's channels read (a channel without words here reads as its name).
_CHANNEL_WORDS = {
    "phone": ("电话", "the phone"),
    "web": ("网站", "the web"),
    "app": ("APP", "the app"),
    "wechat": ("微信", "WeChat"),
}
_US_PER_DAY = 86_400_000_000
_ABOUT = (
    "calls about the case (linked by case_id, or without a case_id from the reporter's phone since opening)"
)


def _call_words(channel: str) -> tuple[str, str, str]:
    """What the calls through a channel (or all of them) are called: meaning, Chinese, English."""
    if channel == ALL_CHANNELS:
        return f"{_ABOUT}, any channel", "与本案相关的热线来电", "hotline calls about the case"
    zh, en = _CHANNEL_WORDS.get(channel, (channel, channel))
    return (
        f"{_ABOUT} through channel '{channel}'",
        f"经{zh}渠道与本案相关的热线来电",
        f"hotline calls about the case through {en}",
    )


def _measure_docs(group: str, meaning: str, zh: str, en: str) -> tuple[FeatureDoc, ...]:
    """Windowed counts, decayed counts and days since the last one of `meaning` (Chinese `zh`, English
    `en`, a plural noun phrase), named activity_<group>_<measure>."""
    windows = (
        FeatureDoc(
            f"{PREFIX}{group}_{days}d",
            f"number of {meaning} in the last {days} days",
            f"{days} days",
            "numeric",
            f"近{days}天{zh}{{value}}次",
            f"{{value}} {en} in the last {days} days",
        )
        for days in WINDOWS_DAYS
    )
    decays = (
        FeatureDoc(
            f"{PREFIX}{group}_decay{half}",
            f"{meaning}, each weighted by 0.5 ** (its age in days / {half}): 1 now, 1/2 after {half} days",
            f"half-life {half} days",
            "numeric",
            f"按远近折算，{zh}约{{value}}次（{half}天前的一次算半次）",
            f"{{value}} {en}, weighted by recency (one {half} days ago counts half)",
        )
        for half in HALF_LIVES_DAYS
    )
    since = FeatureDoc(
        f"{PREFIX}{group}_days_since",
        f"days since the last of the {meaning}; days since opening when there was none",
        "since opening",
        "numeric",
        f"已{{value}}天没有{zh}",
        f"no {en} for {{value}} days",
    )
    return (*windows, *decays, since)


def _event_docs(event_type: EventType) -> tuple[FeatureDoc, ...]:
    """Every measure of one event type, its rate included."""
    zh, en = EVENT_WORDS[event_type]
    meaning = f"'{event_type.value}' events"
    rate = FeatureDoc(
        f"{PREFIX}{event_type.value}_rate",
        f"{meaning} since opening per {RATE_PER_DAYS} days of case age (age taken as at least "
        f"{RATE_MIN_AGE_DAYS} days)",
        "since opening",
        "numeric",
        f"立案以来平均每{RATE_PER_DAYS}天{zh}{{value}}次",
        f"{{value}} {en} per {RATE_PER_DAYS} days since the case was opened",
    )
    return (*_measure_docs(event_type.value, meaning, zh, en), rate)


FEATURES: tuple[FeatureDoc, ...] = (
    *(doc for t in EVENT_TYPES for doc in _event_docs(t)),
    *(doc for c in (*CHANNELS, ALL_CHANNELS) for doc in _measure_docs(f"calls_{c}", *_call_words(c))),
    FeatureDoc(
        f"{PREFIX}callers_decay{CALLERS_HALF_LIFE_DAYS}",
        f"distinct caller phones among the {_ABOUT}, each weighted by 0.5 ** (days since its last call / "
        f"{CALLERS_HALF_LIFE_DAYS})",
        f"half-life {CALLERS_HALF_LIFE_DAYS} days",
        "numeric",
        f"按远近折算，约有{{value}}个不同号码来电反映本案（{CALLERS_HALF_LIFE_DAYS}天前最后来电的号码算半个）",
        f"about {{value}} different phone numbers called about the case, weighted by recency (one last "
        f"heard {CALLERS_HALF_LIFE_DAYS} days ago counts half)",
    ),
    *(
        FeatureDoc(
            f"{PREFIX}last_type_{k}",
            f"type of the case's {_LATEST[k - 1]} event ('{NONE}' when it has fewer than {k} events)",
            "since opening",
            "categorical",
            f"倒数第{k}条案件记录为{{value}}" if k > 1 else "最近一条案件记录为{value}",
            f"the case's {_LATEST[k - 1]} record is {{value}}",
            labels=(
                *((t.value, EVENT_WORDS[t][0], t.value.replace("_", " ")) for t in EventType),
                (NONE, "（无）", "(none)"),
            ),
        )
        for k in range(1, LAST_TYPES + 1)
    ),
)


def _days(now: np.datetime64, at: np.ndarray) -> np.ndarray:
    """Days (as floats) from the times `at` to `now`."""
    return (now.astype(np.int64) - at.view(np.int64)) / _US_PER_DAY


def _measures(
    case: np.ndarray, kind: np.ndarray, at: np.ndarray, kinds: int, opened: np.ndarray, now: np.datetime64
) -> dict[str, np.ndarray]:
    """Per measure, a (cases, kinds) matrix: windowed counts, decayed counts, days since the last item
    (since opening when none). Items have a case, a kind (-1: none of the kinds) and a time before now."""
    size, age = len(opened), _days(now, at)
    out = {
        f"{days}d": counts_per_slot(
            case, np.where(at >= now - np.timedelta64(days, "D"), kind, -1), size, kinds
        )
        for days in WINDOWS_DAYS
    }
    for half in HALF_LIVES_DAYS:
        out[f"decay{half}"] = counts_per_slot(case, kind, size, kinds, weights=0.5 ** (age / half))
    chosen = kind >= 0
    slot = case[chosen] * kinds + kind[chosen]
    latest = latest_per_slot(slot, at[chosen], size * kinds)
    latest = np.where(np.isnat(latest), np.repeat(opened, kinds), latest)
    out["days_since"] = _days(now, latest).reshape(size, kinds)
    return out


def _columns(measures: dict[str, np.ndarray], groups: list[str]) -> dict[str, np.ndarray]:
    """The measures' matrices as columns activity_<group>_<measure>, one group per kind."""
    return {
        f"{PREFIX}{group}_{name}": column
        for name, matrix in measures.items()
        for group, column in zip(groups, np.ascontiguousarray(matrix.T), strict=True)
    }


def _event_columns(
    case: np.ndarray, events: pd.DataFrame, opened: np.ndarray, now: np.datetime64
) -> dict[str, np.ndarray]:
    """Every measure of every event type (EVENT_TYPES), its rate included."""
    types = pd.Index([t.value for t in EVENT_TYPES])
    kind, at = positions(events["event_type"], types), events["event_at"].to_numpy(dtype="datetime64[us]")
    measures = _measures(case, kind, at, len(types), opened, now)
    since_opening = counts_per_slot(case, np.where(at >= opened[case], kind, -1), len(opened), len(types))
    age = np.maximum(_days(now, opened), RATE_MIN_AGE_DAYS)
    measures["rate"] = since_opening / age[:, None] * RATE_PER_DAYS
    return _columns(measures, list(types))


def _channel_codes(channel: pd.Series) -> np.ndarray:
    """Position of each call's channel (trimmed, any case) among the contract's CHANNELS, -1 otherwise."""
    codes, uniques = pd.factorize(channel)
    names = channel_names(np.asarray(uniques, dtype=object))
    found = pc.fill_null(pc.index_in(names, value_set=pa.array(CHANNELS)), -1).to_numpy().astype(np.int64)
    return np.append(found, -1)[codes]


def _call_columns(
    pairs: pd.DataFrame, hotline: pd.DataFrame, opened: np.ndarray, now: np.datetime64
) -> dict[str, np.ndarray]:
    """Every measure of the calls about each case, per channel and through all channels; and the callers."""
    case, at = pairs["pos"].to_numpy(), pairs["received_at"].to_numpy(dtype="datetime64[us]")
    rows = pairs["row"].to_numpy()
    channel = _channel_codes(hotline["channel"].iloc[rows])
    out = _columns(_measures(case, channel, at, len(CHANNELS), opened, now), [f"calls_{c}" for c in CHANNELS])
    everything = _measures(case, np.zeros_like(case), at, 1, opened, now)
    out.update(_columns(everything, [f"calls_{ALL_CHANNELS}"]))
    callers = _decayed_callers(case, hotline["caller_phone_pid"].iloc[rows], at, len(opened), now)
    out[f"{PREFIX}callers_decay{CALLERS_HALF_LIFE_DAYS}"] = callers
    return out


def _decayed_callers(
    case: np.ndarray, caller: pd.Series, at: np.ndarray, size: int, now: np.datetime64
) -> np.ndarray:
    """Per case: its distinct callers (a blank phone is not counted), each weighted by the recency of its
    last call with half-life CALLERS_HALF_LIFE_DAYS."""
    code, distinct = pd.factorize(caller)
    blank = np.append(is_blank(pd.Series(np.asarray(distinct, dtype=object), dtype="str")), True)
    known = ~blank[code]
    callers = max(len(distinct), 1)
    pair, slot = np.unique(case[known] * callers + code[known], return_inverse=True)
    last = latest_per_slot(slot.reshape(-1), at[known], len(pair))
    weights = 0.5 ** (_days(now, last) / CALLERS_HALF_LIFE_DAYS)
    return np.bincount(pair // callers, weights=weights, minlength=size).astype(float)


def _last_types(case: np.ndarray, events: pd.DataFrame, size: int) -> dict[str, np.ndarray]:
    """Per case: the types of its LAST_TYPES latest events, most recent first ('none' when fewer); events
    at the same time go in lifecycle order (the contract's order of event types)."""
    kind = positions(events["event_type"], _EVENT_ORDER)
    at = events["event_at"].to_numpy(dtype="datetime64[us]").view(np.int64)
    # One number per event that orders a case's events as (time, lifecycle): unique, as (case, time, type)
    # is the events' record key.
    key = np.where(kind >= 0, at * len(_EVENT_ORDER) + kind, np.iinfo(np.int64).min)
    names = np.append(_EVENT_ORDER.to_numpy(dtype=object), NONE)
    out, below = {}, np.full(size, np.iinfo(np.int64).max)
    for k in range(1, LAST_TYPES + 1):
        latest = np.full(size, np.iinfo(np.int64).min)
        earlier = key < below[case]
        np.maximum.at(latest, case[earlier], key[earlier])
        found = latest > np.iinfo(np.int64).min
        out[f"{PREFIX}last_type_{k}"] = names[np.where(found, latest % len(_EVENT_ORDER), -1)]
        below = latest
    return out


def build(cohort: pd.DataFrame, known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """Activity features of the cohort's cases from events and calls known and dated before the instant."""
    now, size = np.datetime64(instant.to_datetime64(), "us"), len(cohort)
    opened = cohort["opened_at"].to_numpy(dtype="datetime64[us]")
    events = known.events[known.events["event_at"] < instant]
    case = positions(events["case_id"], cohort.index)
    events, case = events[case >= 0], case[case >= 0]
    pairs = calls_about_cases(known.hotline, cohort)
    pairs = pairs[pairs["received_at"] < instant]
    out = {
        **_event_columns(case, events, opened, now),
        **_call_columns(pairs, known.hotline, opened, now),
        **_last_types(case, events, size),
    }
    numeric = [d.name for d in FEATURES if d.kind != "categorical"]
    categorical = [d.name for d in FEATURES if d.kind == "categorical"]
    values = np.stack([out[name] for name in numeric]) if numeric else np.empty((0, size))
    frame = pd.concat(
        [
            pd.DataFrame(values.T, index=cohort.index, columns=numeric, copy=False),
            pd.DataFrame({name: out[name] for name in categorical}, index=cohort.index, dtype=str),
        ],
        axis=1,
    )
    return frame[[d.name for d in FEATURES]]
