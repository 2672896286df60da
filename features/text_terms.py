"""The case's words: one document per case for the model's own term weighting (character n-gram TF-IDF).

The document is the case description, the notes of its events and the texts of the calls linked to it
by case_id in the last 30 days, all known before the instant, oldest first, cut to the last
`MAX_CHARS` characters. Phone and ID numbers were masked at ingest, so they never become terms. The
model (models/estimator.py) learns which character pairs and triples raise the risk; a case's reason
then names the terms that raised its score, e.g. 文字中出现「上访」「起诉」.
"""

from __future__ import annotations

import pandas as pd

from features.dictionary import FeatureDoc
from features.sources import Sources

PREFIX = "terms_"
CALL_WINDOW_DAYS = 30
MAX_CHARS = 2000
DOCUMENT = "terms_document"

FEATURES: tuple[FeatureDoc, ...] = (
    FeatureDoc(
        DOCUMENT,
        "the case's own words: its description, the notes of its events and the texts of calls linked to it "
        f"by case_id in the last {CALL_WINDOW_DAYS} days, oldest first, the last {MAX_CHARS} characters; the "
        "model weighs its character pairs and triples (TF-IDF) and names the ones that raised the score",
        f"description, notes, {CALL_WINDOW_DAYS} days of calls",
        "text",
        "文字中出现「{value}」",
        "the texts mention “{value}”",
    ),
)


def _joined(case_ids: pd.Series, texts: pd.Series, index: pd.Index) -> pd.Series:
    """Per case of index: its texts joined with a space in the given order ('' for none)."""
    present = texts.notna() & (texts.astype("string").str.len() > 0)
    grouped = texts[present].astype(str).groupby(case_ids[present].to_numpy(), sort=False).agg(" ".join)
    return grouped.reindex(index).fillna("")


def build(cohort: pd.DataFrame, known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """One document per cohort case from what was known before the instant."""
    index = cohort.index
    events = known.events[["case_id", "event_at", "note"]]
    events = events[events["case_id"].isin(index) & (events["event_at"] < instant)].sort_values(
        "event_at", kind="stable"
    )
    calls = known.hotline[["case_id", "received_at", "text"]]
    start = instant - pd.Timedelta(days=CALL_WINDOW_DAYS)
    calls = calls[
        calls["case_id"].isin(index) & (calls["received_at"] >= start) & (calls["received_at"] < instant)
    ]
    calls = calls.sort_values("received_at", kind="stable")
    parts = [
        cohort["description"].astype("string").fillna("").astype(str),
        _joined(events["case_id"], events["note"], index),
        _joined(calls["case_id"], calls["text"], index),
    ]
    document = _append(_append(parts[0], parts[1]), parts[2]).str[-MAX_CHARS:]
    return pd.DataFrame({DOCUMENT: document.astype(object)}, index=index)


def _append(first: pd.Series, then: pd.Series) -> pd.Series:
    """Each text followed by the other after a space (no space when either is empty)."""
    both = (first + " " + then).where(first != "", then)
    return first.where(then == "", both)
