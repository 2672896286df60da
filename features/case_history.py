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
    last = events.groupby("case_id")["event_at"].max().reindex(cohort.index)
    last = last.fillna(cohort["opened_at"])
    out["history_days_since_last_event"] = ((instant - last).dt.total_seconds() / 86400).astype(float)
    return out
