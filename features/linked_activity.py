"""Linked-call features: calls without a case number that the call linker attached to the case.

`features.call_linking.window_links` takes the calls without a case_id received in the last 30 days and
known before the instant; each was decided once, at the midnight after it became known, from the
records known then (so a call known before the instant was decided at or before it), and linked to at
most one case when its confidence reached LINK_CONFIG.threshold (same phone as the reporter or as an
earlier caller quoting the case number, similar wording, shared named things, agreeing category; a case
closed at the call's time only with strong evidence, so a reopened case keeps the calls that came
before its reopening). These features count those links for each open case, apart from
`hotline_activity` (which counts calls by case_id and calls from the reporter's phone), so that the
linker's value can be measured on its own. A call from the reporter's phone may be counted by both
families. A day's decisions are computed once per process for all the as-of dates whose window holds
it (`link_memo.MEMO`, keyed by a digest of everything they read).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.call_linking import window_links
from features.dictionary import FeatureDoc
from features.hotline_activity import count_per_case, distinct_per_case, text_or_none
from features.link_config import LinkConfig
from features.sources import Sources

PREFIX = "linked_"
WINDOWS_DAYS = (7, 30)
CALLERS_DAYS = 30
LINK_CONFIG = LinkConfig(call_window_days=max(WINDOWS_DAYS))
_DAY = pd.Timedelta(days=1)
_LINKED = (
    "hotline calls without a case_id that the call linker (features.call_linking, confidence at least "
    f"{LINK_CONFIG.threshold}, decided the midnight after the call became known) attached to the case"
)

FEATURES: tuple[FeatureDoc, ...] = (
    *(
        FeatureDoc(
            f"linked_calls_{days}d",
            f"{_LINKED}, received in the last {days} days",
            f"{days} days",
            "numeric",
            f"近{days}天另有{{value}}次未提供案件编号的来电经比对关联到本案",
            f"{{value}} calls without the case number were matched to the case in the last {days} days",
        )
        for days in WINDOWS_DAYS
    ),
    FeatureDoc(
        f"linked_callers_{CALLERS_DAYS}d",
        f"distinct caller phones (non-empty caller_phone_pid) among the {_LINKED} in the last "
        f"{CALLERS_DAYS} days",
        f"{CALLERS_DAYS} days",
        "numeric",
        f"近{CALLERS_DAYS}天经比对关联到本案的来电来自{{value}}个不同号码",
        f"calls matched to the case in the last {CALLERS_DAYS} days came from {{value}} "
        "different phone numbers",
    ),
    FeatureDoc(
        f"linked_max_confidence_{CALLERS_DAYS}d",
        f"highest link confidence, in percent (0-100), among the {_LINKED} in the last {CALLERS_DAYS} days; "
        "0 when none",
        f"{CALLERS_DAYS} days",
        "numeric",
        f"近{CALLERS_DAYS}天关联来电的最高匹配置信度为{{value}}%",
        f"the best match of a call to the case in the last {CALLERS_DAYS} days had confidence {{value}}%",
    ),
)


def case_links(known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """The linker's links of the calls received in the window before the instant (each as decided the
    midnight after the call became known), with each call's received_at and phone."""
    return window_links(known.hotline, known.cases, known.hotline, instant, LINK_CONFIG, events=known.events)


def build(cohort: pd.DataFrame, known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """Counts of linker-attached calls per cohort case, from records known before the instant."""
    size = len(cohort)
    links = case_links(known, instant) if size else pd.DataFrame(columns=["case_id"])
    pos = pd.Index(cohort.index).get_indexer(links["case_id"])
    links = links[pos >= 0].assign(pos=pos[pos >= 0])
    at = links["pos"].to_numpy(dtype=np.int64)
    received = links["received_at"].to_numpy() if len(links) else np.array([], dtype="datetime64[us]")
    out: dict[str, np.ndarray] = {}
    for days in WINDOWS_DAYS:
        out[f"linked_calls_{days}d"] = count_per_case(
            at, size, received >= (instant - days * _DAY).to_datetime64()
        )
    recent = received >= (instant - CALLERS_DAYS * _DAY).to_datetime64()
    callers = text_or_none(links["caller_phone_pid"][recent]) if len(links) else np.array([], dtype=object)
    out[f"linked_callers_{CALLERS_DAYS}d"] = distinct_per_case(at[recent], callers, size)
    best = np.zeros(size)
    if len(links):
        np.maximum.at(best, at[recent], 100 * links["confidence"].to_numpy(dtype=float)[recent])
    out[f"linked_max_confidence_{CALLERS_DAYS}d"] = best
    return pd.DataFrame(out, index=cohort.index)[[d.name for d in FEATURES]].astype(float)
