"""Case history features: how often each kind of event has happened, and how recently."""

from __future__ import annotations

import pandas as pd

from contracts.vocabulary import EventType
from features.dictionary import FeatureDoc
from features.sources import Sources

PREFIX = "history_"

_WORDS = {
    EventType.ASSIGNED: ("分派", "assignments"),
    EventType.VISIT: ("走访", "visits"),
    EventType.MEDIATION_SESSION: ("调解", "mediation sessions"),
    EventType.MEDIATION_FAILED: ("调解失败", "failed mediations"),
    EventType.MEDIATED: ("调解成功", "successful mediations"),
    EventType.AGREEMENT_BREACHED: ("协议被违反", "breached agreements"),
    EventType.REFERRED: ("移交", "referrals"),
    EventType.REOPENED: ("重新开启", "reopenings"),
    EventType.VIOLENCE: ("发生暴力事件", "violent incidents"),
    EventType.GROUP_INCIDENT: ("发生群体性事件", "group incidents"),
    EventType.LITIGATION: ("进入诉讼", "lawsuits"),
}
COUNTED = tuple(_WORDS)
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
            f"{zh}{{value}}次",
            f"{{value}} {en} so far",
        )
        for t, (zh, en) in _WORDS.items()
    ),
    *(
        FeatureDoc(
            f"history_n_{t.value}_{RECENT_DAYS}d",
            f"number of '{t.value}' events in the last {RECENT_DAYS} days",
            f"{RECENT_DAYS} days",
            "numeric",
            f"近{RECENT_DAYS}天{_WORDS[t][0]}{{value}}次",
            f"{{value}} {_WORDS[t][1]} in the last {RECENT_DAYS} days",
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
    events = known.events[known.events["case_id"].isin(cohort.index)]
    counts = pd.crosstab(events["case_id"], events["event_type"])
    counts = counts.reindex(index=cohort.index, columns=[t.value for t in COUNTED]).fillna(0).astype(float)
    out = counts.add_prefix("history_n_")
    recent = events[events["event_at"] >= instant - pd.Timedelta(days=RECENT_DAYS)]
    recent_counts = pd.crosstab(recent["case_id"], recent["event_type"])
    recent_counts = recent_counts.reindex(index=cohort.index, columns=[t.value for t in RECENT]).fillna(0)
    out = out.join(recent_counts.astype(float).add_prefix("history_n_").add_suffix(f"_{RECENT_DAYS}d"))
    out["history_failures_since_success"] = failures_since_success(events).reindex(cohort.index).fillna(0)
    last = events.groupby("case_id")["event_at"].max().reindex(cohort.index)
    last = last.fillna(cohort["opened_at"])
    out["history_days_since_last_event"] = ((instant - last).dt.total_seconds() / 86400).astype(float)
    return out


def failures_since_success(events: pd.DataFrame) -> pd.Series:
    """Per case: mediation failures after its last successful mediation (all of them if none succeeded)."""
    success = events[events["event_type"] == EventType.MEDIATED.value].groupby("case_id")["event_at"].max()
    failures = events[events["event_type"] == EventType.MEDIATION_FAILED.value]
    failures = failures[["case_id", "event_at"]].join(success.rename("last_success"), on="case_id")
    after = failures["last_success"].isna() | (failures["event_at"] > failures["last_success"])
    return failures[after].groupby("case_id").size().astype(float)
