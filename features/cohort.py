"""Which cases are open at an instant, which of them are dormant, and whether they escalate after it.

A case is open at an instant when it was opened before it and its latest closed/reopened event before
it is not 'closed'. An open case is *dormant* when nothing happened on it in the `dormant_days` before
the instant: no opening, no event of its own and no hotline call quoting its case number. Dormant
cases are neither scored nor used as training snapshots (the model learns on the population it
scores); they are listed apart. Everything is read from what was known before the instant.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from contracts.settings import Settings
from contracts.vocabulary import EventType
from features.sources import Sources, positions

_STATUS_EVENTS = (EventType.CLOSED.value, EventType.REOPENED.value)
# The configured default (`Settings.dormant_days`), stated once.
DORMANT_DAYS: int = Settings.model_fields["dormant_days"].default
DORMANT_COLUMNS = ("case_id", "district", "category", "opened_at", "last_activity_at", "days_inactive")


def open_cases(known: Sources, instant: pd.Timestamp, dormant_days: int | None = None) -> pd.DataFrame:
    """Cases opened before the instant whose latest closed/reopened event before it is not 'closed';
    with `dormant_days`, without the dormant ones (no activity in the `dormant_days` before the instant).
    The scored and trained cohort leaves dormant cases out; context counts and grievances keep them.

    `known` must already be cut to what was known before the instant (`features.known.cut`: its `sources`).
    """
    cases = _not_closed(known, instant)
    if dormant_days is None:
        return cases
    return cases[_recently_active(known, cases, instant - pd.Timedelta(days=dormant_days))]


def dormant_cases(known: Sources, instant: pd.Timestamp, dormant_days: int = DORMANT_DAYS) -> pd.DataFrame:
    """The open cases with no activity in the `dormant_days` before the instant (DORMANT_COLUMNS, by
    case id): when each was last active and for how many whole days it has not been since."""
    cases = _not_closed(known, instant)
    cases = cases[~_recently_active(known, cases, instant - pd.Timedelta(days=dormant_days))]
    last = last_activity(known, cases["case_id"], cases["opened_at"])
    out = cases[["case_id", "district", "category", "opened_at"]].assign(
        last_activity_at=last, days_inactive=((instant - last) // pd.Timedelta(days=1)).astype("int64")
    )
    return out.sort_values("case_id", ignore_index=True)[list(DORMANT_COLUMNS)]


def last_activity(known: Sources, case_ids: pd.Series, opened_at: pd.Series) -> pd.Series:
    """Per case (aligned with `case_ids`): the latest of its opening, its events and the calls quoting
    its case number, among the known rows."""
    latest = opened_at.to_numpy(dtype="datetime64[ns]").copy()
    keys = pd.Index(case_ids)
    for ids, times in _activity(known):
        where = positions(ids, keys)
        hit = where >= 0
        if hit.any():
            per_case = pd.Series(times.to_numpy(dtype="datetime64[ns]")[hit]).groupby(where[hit]).max()
            index = per_case.index.to_numpy()
            latest[index] = np.maximum(latest[index], per_case.to_numpy())
    return pd.Series(latest, index=case_ids.index, name="last_activity_at")


def _activity(known: Sources) -> tuple[tuple[pd.Series, pd.Series], ...]:
    """(case id, time) of every recorded activity besides the opening: events, calls quoting a case."""
    return (
        (known.events["case_id"], known.events["event_at"]),
        (known.hotline["case_id"], known.hotline["received_at"]),
    )


def _recently_active(known: Sources, cases: pd.DataFrame, since: pd.Timestamp) -> np.ndarray:
    """Per case: whether it was opened, had an event or was quoted by a call at or after `since`."""
    active = (cases["opened_at"] >= since).to_numpy(copy=True)
    keys = pd.Index(cases["case_id"])
    for ids, times in _activity(known):
        where = positions(ids[(times >= since).to_numpy()], keys)
        active[where[where >= 0]] = True
    return active


def _not_closed(known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """Cases opened before the instant whose latest closed/reopened event before it is not 'closed'."""
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
