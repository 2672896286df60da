"""A district over time: disputes opened and open, escalations and hotline calls per period, and its
categories, counted from the stored sources (for `notebooks/02-explore-a-district.ipynb`).

Pure: it reads the `Sources` it is given and counts (cases open at a period's start from
`features.known.cut` of them); no feature or model depends on it.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from contracts.vocabulary import DEFAULT_ESCALATION_EVENTS, EventType
from features.cohort import open_cases
from features.known import KnownBefore, cut
from features.sources import Sources

TIMELINE_COLUMNS = ("opened", "open_at_start", "closed", "escalations", "hotline_calls", "hotline_linked")


def districts(sources: Sources) -> list[str]:
    """The districts of the stored cases, most cases first (ties by name)."""
    counts = sources.cases["district"].dropna().astype(str).value_counts()
    return sorted(counts.index, key=lambda name: (-int(counts[name]), name))


def _district_events(sources: Sources, district: str) -> pd.DataFrame:
    """The events of the district's cases (an event takes its case's district)."""
    ids = sources.cases.loc[sources.cases["district"] == district, "case_id"]
    return sources.events[sources.events["case_id"].isin(set(ids))]


def _open_in(known: KnownBefore, district: str) -> int:
    """How many of the district's cases are open at the cut's instant, from the cut."""
    return int((open_cases(known.sources, known.instant)["district"] == district).sum())


def _per_period(stamps: pd.Series, periods: pd.DatetimeIndex, freq: str) -> pd.Series:
    """How many timestamps fall in each period starting at `periods` (others are ignored)."""
    if stamps.empty:
        return pd.Series(0, index=periods, dtype="int64")
    starts = stamps.dt.to_period(freq).dt.start_time
    return starts.value_counts().reindex(periods, fill_value=0).astype("int64")


def district_timeline(
    sources: Sources,
    district: str,
    freq: str = "W-SUN",
    escalation_types: Iterable[str] = DEFAULT_ESCALATION_EVENTS,
) -> pd.DataFrame:
    """One row per period (index: the period's first instant) from the district's first case to its
    last stored record.

    Columns: `opened` (cases opened in the period), `open_at_start` (cases open at the period's
    first instant, counted as the daily list would: from what was known before that instant),
    `closed` (closed events), `escalations` (escalation events of any of `escalation_types`), one
    `escalation_<type>` column per type, `hotline_calls` (calls about the district received in the
    period) and `hotline_linked` (those linked to a case). `freq` is a pandas period frequency
    ("W-SUN": weeks from Monday, "M": months, "D": days). Raises ValueError for an unknown district.
    """
    types = [str(t) for t in escalation_types]
    cases = sources.cases[sources.cases["district"] == district]
    if cases.empty:
        raise ValueError(f"no stored case in district {district!r}; known districts: {districts(sources)}")
    events = _district_events(sources, district)
    calls = sources.hotline[sources.hotline["district"] == district]
    first = cases["opened_at"].min()
    last = max(stamp for stamp in (cases["opened_at"].max(), events["event_at"].max()) if pd.notna(stamp))
    periods = pd.period_range(first, last, freq=freq).start_time
    escalations = events[events["event_type"].isin(types)]
    timeline = pd.DataFrame(
        {
            "opened": _per_period(cases["opened_at"], periods, freq),
            "open_at_start": [_open_in(cut(sources, start), district) for start in periods],
            "closed": _per_period(
                events.loc[events["event_type"] == EventType.CLOSED.value, "event_at"], periods, freq
            ),
            "escalations": _per_period(escalations["event_at"], periods, freq),
            **{
                f"escalation_{kind}": _per_period(
                    escalations.loc[escalations["event_type"] == kind, "event_at"], periods, freq
                )
                for kind in types
            },
            "hotline_calls": _per_period(calls["received_at"], periods, freq),
            "hotline_linked": _per_period(calls.loc[calls["case_id"].notna(), "received_at"], periods, freq),
        },
        index=periods,
    )
    timeline.index.name = "period"
    return timeline


def district_categories(
    sources: Sources, district: str, escalation_types: Iterable[str] = DEFAULT_ESCALATION_EVENTS
) -> pd.DataFrame:
    """The district's disputes by category, most first: `cases`, `escalated` (cases with any
    escalation event so far), `escalated_share`, `linked_calls` (hotline calls linked to them) and
    `median_amount` (money at stake, CNY, where recorded)."""
    types = [str(t) for t in escalation_types]
    cases = sources.cases[sources.cases["district"] == district]
    if cases.empty:
        raise ValueError(f"no stored case in district {district!r}; known districts: {districts(sources)}")
    events = _district_events(sources, district)
    escalated = set(events.loc[events["event_type"].isin(types), "case_id"])
    linked = sources.hotline["case_id"].dropna().value_counts()
    frame = cases.assign(
        escalated=cases["case_id"].isin(escalated),
        linked_calls=cases["case_id"].map(linked).fillna(0).astype("int64"),
    )
    table = frame.groupby("category", sort=True).agg(
        cases=("case_id", "size"),
        escalated=("escalated", "sum"),
        linked_calls=("linked_calls", "sum"),
        median_amount=("amount", "median"),
    )
    table["escalated_share"] = table["escalated"] / table["cases"]
    table = table[["cases", "escalated", "escalated_share", "linked_calls", "median_amount"]]
    return table.sort_values(["cases", "escalated"], ascending=False, kind="stable")
