"""Case history features: how often each kind of event has happened, and how recently."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.vocabulary import EventType
from features.dictionary import FeatureDoc
from features.sources import Sources, positions

PREFIX = "history_"

# How a mediator names each event type: (Chinese, English plural); every type of the contract.
EVENT_WORDS: dict[EventType, tuple[str, str]] = {
    EventType.REGISTERED: ("立案登记", "registrations"),
    EventType.ASSIGNED: ("分派", "assignments"),
    EventType.VISIT: ("走访", "visits"),
    EventType.MEDIATION_SESSION: ("调解", "mediation sessions"),
    EventType.MEDIATION_FAILED: ("调解失败", "failed mediations"),
    EventType.MEDIATED: ("调解成功", "successful mediations"),
    EventType.AGREEMENT_BREACHED: ("协议被违反", "breached agreements"),
    EventType.REFERRED: ("移交", "referrals"),
    EventType.REOPENED: ("重新开启", "reopenings"),
    EventType.CLOSED: ("结案", "closings"),
    EventType.VIOLENCE: ("发生暴力事件", "violent incidents"),
    EventType.GROUP_INCIDENT: ("发生群体性事件", "group incidents"),
    EventType.LITIGATION: ("进入诉讼", "lawsuits"),
}
# Counted since opening: every type but the opening and the closing (an open case has one and none).
COUNTED = tuple(t for t in EVENT_WORDS if t not in (EventType.REGISTERED, EventType.CLOSED))
RECENT = (
    EventType.MEDIATION_SESSION,
    EventType.MEDIATION_FAILED,
    EventType.AGREEMENT_BREACHED,
    EventType.VISIT,
    EventType.REFERRED,
)
RECENT_DAYS = 30

FEATURES: tuple[FeatureDoc, ...] = (
    *(
        FeatureDoc(
            f"history_n_{t.value}",
            f"number of '{t.value}' events so far",
            "since opening",
            "numeric",
            f"{EVENT_WORDS[t][0]}{{value}}次",
            f"{{value}} {EVENT_WORDS[t][1]} so far",
        )
        for t in COUNTED
    ),
    *(
        FeatureDoc(
            f"history_n_{t.value}_{RECENT_DAYS}d",
            f"number of '{t.value}' events in the last {RECENT_DAYS} days",
            f"{RECENT_DAYS} days",
            "numeric",
            f"近{RECENT_DAYS}天{EVENT_WORDS[t][0]}{{value}}次",
            f"{{value}} {EVENT_WORDS[t][1]} in the last {RECENT_DAYS} days",
        )
        for t in RECENT
    ),
    FeatureDoc(
        "history_failures_since_success",
        "failed mediations since the last successful one (or since opening): the current losing streak",
        "since last success",
        "numeric",
        "连续调解失败{value}次，其间没有调解成功",
        "{value} failed mediations in a row since the last success",
    ),
    FeatureDoc(
        "history_days_since_last_event",
        "days since the last recorded event (contact)",
        "since opening",
        "numeric",
        "已{value}天无任何跟进记录",
        "no recorded contact for {value} days",
    ),
)


def build(cohort: pd.DataFrame, known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """History features of the cohort's cases from events known before the instant."""
    events = known.events
    case = positions(events["case_id"], cohort.index)
    events = events.loc[case >= 0, ["event_at", "event_type"]].assign(case=case[case >= 0])
    size, counted, recent = len(cohort), [t.value for t in COUNTED], [t.value for t in RECENT]
    out = _counts(events, size, counted, cohort.index).add_prefix("history_n_")
    within = events[events["event_at"] >= instant - pd.Timedelta(days=RECENT_DAYS)]
    out = out.join(
        _counts(within, size, recent, cohort.index).add_prefix("history_n_").add_suffix(f"_{RECENT_DAYS}d")
    )
    out["history_failures_since_success"] = failures_since_success(events, size)
    last = pd.Series(_latest(events, size), index=cohort.index).fillna(cohort["opened_at"])
    out["history_days_since_last_event"] = ((instant - last).dt.total_seconds() / 86400).astype(float)
    return out


def _counts(events: pd.DataFrame, size: int, types: list[str], index: pd.Index) -> pd.DataFrame:
    """Per case (row `case` of the events): how many events of each type, as floats."""
    kind = positions(events["event_type"], pd.Index(types))
    counts = counts_per_slot(events["case"].to_numpy(), kind, size, len(types))
    return pd.DataFrame(counts, index=index, columns=pd.Index(types, name="event_type"))


def counts_per_slot(
    row: np.ndarray, kind: np.ndarray, size: int, kinds: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """A (size, kinds) float matrix: per row and kind, how many items (or the sum of their weights);
    items whose kind is -1 are left out."""
    chosen = kind >= 0
    flat = row[chosen] * kinds + kind[chosen]
    chosen_weights = None if weights is None else weights[chosen]
    counts = np.bincount(flat, weights=chosen_weights, minlength=size * kinds)
    return counts.reshape(size, kinds).astype(float)


def _latest(events: pd.DataFrame, size: int, mask: np.ndarray | None = None) -> np.ndarray:
    """Per case (row `case` of the events): the latest event_at (of the events in the mask), NaT when none."""
    case, at = events["case"].to_numpy(), events["event_at"].to_numpy(dtype="datetime64[us]")
    return latest_per_slot(case, at, size) if mask is None else latest_per_slot(case[mask], at[mask], size)


def latest_per_slot(slot: np.ndarray, at: np.ndarray, size: int) -> np.ndarray:
    """Per slot 0..size-1: the latest of the times `at` (datetime64[us]) of its items, NaT when none."""
    latest = np.full(size, np.datetime64("NaT", "us").view(np.int64))  # NaT is the smallest int64
    np.maximum.at(latest, slot, at.astype("datetime64[us]").view(np.int64))
    return latest.view("datetime64[us]")


def failures_since_success(events: pd.DataFrame, size: int) -> np.ndarray:
    """Per case (row `case` of the events): mediation failures after its last successful mediation (all of
    them if none succeeded)."""
    success = _latest(events, size, (events["event_type"] == EventType.MEDIATED.value).to_numpy(dtype=bool))
    failed = (events["event_type"] == EventType.MEDIATION_FAILED.value).to_numpy(dtype=bool)
    case, at = events["case"].to_numpy()[failed], events["event_at"].to_numpy(dtype="datetime64[us]")[failed]
    last = success[case]
    after = np.isnat(last) | (at > last)
    return np.bincount(case[after], minlength=size).astype(float)
