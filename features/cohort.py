"""Which cases are open at an instant, and whether they escalate within the horizon after it."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from contracts.vocabulary import EventType
from features.sources import Sources, positions

_STATUS_EVENTS = (EventType.CLOSED.value, EventType.REOPENED.value)


def open_cases(known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """Cases opened before the instant whose latest closed/reopened event before it is not 'closed'.

    `known` must already be cut to what was known before the instant (Sources.known_before).
    """
    cases = known.cases[known.cases["opened_at"] < instant]
    closed = positions(cases["case_id"], closed_case_ids(known.events)) >= 0
    return cases[~closed].set_index("case_id", drop=False).rename_axis(None)


def closed_case_ids(events: pd.DataFrame) -> pd.Series:
    """The cases whose latest closed/reopened event (by event_at, then known_at) is 'closed'.

    Ties (same time, same knowledge time) resolve to 'reopened': a case stays on the list when in doubt.
    """
    kind = positions(events["event_type"], pd.Index(_STATUS_EVENTS))
    status = events.loc[kind >= 0, ["case_id", "event_at", "known_at"]]
    reopened = kind[kind >= 0] == _STATUS_EVENTS.index(EventType.REOPENED.value)
    order = np.lexsort((reopened, status["known_at"].to_numpy(), status["event_at"].to_numpy()))
    latest = status.iloc[order].assign(closed=~reopened[order]).drop_duplicates("case_id", keep="last")
    return latest.loc[latest["closed"], "case_id"]


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
    window = events.loc[
        (events["event_at"] >= instant) & (events["event_at"] < end), ["case_id", "event_type"]
    ]
    case, kind = positions(window["case_id"], case_ids), positions(window["event_type"], pd.Index(types))
    hits = np.zeros((len(case_ids), len(types)), dtype="int8")
    hits[case[(case >= 0) & (kind >= 0)], kind[(case >= 0) & (kind >= 0)]] = 1
    labels = pd.DataFrame(hits, index=case_ids, columns=pd.Index(types, name="event_type")).add_prefix(
        "label_"
    )
    labels["label_any"] = labels.max(axis=1).astype("int8") if types else 0
    return labels
