"""Which cases are open at an instant, and whether they escalate within the horizon after it."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from contracts.vocabulary import EventType
from features.sources import Sources

_STATUS_EVENTS = (EventType.CLOSED.value, EventType.REOPENED.value)


def open_cases(known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """Cases opened before the instant whose latest closed/reopened event before it is not 'closed'.

    `known` must already be cut to what was known before the instant (Sources.known_before).
    """
    cases = known.cases[known.cases["opened_at"] < instant]
    status = known.events[known.events["event_type"].isin(_STATUS_EVENTS)]
    # Ties (same time, same knowledge time) resolve to 'reopened': a case stays on the list when in doubt.
    order = ["event_at", "known_at", "event_type"]
    latest = status.sort_values(order, kind="stable").drop_duplicates("case_id", keep="last")
    closed_ids = latest.loc[latest["event_type"] == EventType.CLOSED.value, "case_id"]
    closed = pc.is_in(pa.array(cases["case_id"].astype(str)), value_set=pa.array(closed_ids.astype(str)))
    still_open = ~closed.to_numpy(zero_copy_only=False)
    return cases[still_open].set_index("case_id", drop=False).rename_axis(None)


def escalation_labels(
    case_ids: pd.Index,
    events: pd.DataFrame,
    instant: pd.Timestamp,
    horizon_days: int,
    escalation_types: Iterable[str],
) -> pd.DataFrame:
    """Per case: 1 if an event of each escalation type (and of any) falls in [instant, instant + horizon)."""
    types = [str(t) for t in escalation_types]
    end = instant + pd.Timedelta(days=horizon_days)
    window = events[
        (events["event_at"] >= instant)
        & (events["event_at"] < end)
        & events["event_type"].isin(types)
        & events["case_id"].isin(case_ids)
    ]
    hits = pd.crosstab(window["case_id"], window["event_type"]).reindex(index=case_ids, columns=types)
    labels = (hits.fillna(0) > 0).astype("int8").add_prefix("label_")
    labels["label_any"] = labels.max(axis=1).astype("int8") if types else 0
    return labels
