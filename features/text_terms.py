"""The case's words: one document per case for the model's own term weighting (character n-gram TF-IDF).

The document is the case description, the notes of its events and the texts of the calls linked to it
by case_id in the last 30 days, all known before the instant, oldest first, cut to the last
`MAX_CHARS` characters. Phone and ID numbers were masked at ingest, so they never become terms. The
model (models/estimator.py) learns which character pairs and triples raise the risk; a case's reason
then names the terms that raised its score, e.g. 文字中出现「上访」「起诉」.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features.dictionary import FeatureDoc
from features.sources import Sources, arrow_strings, positions

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


def _joined(case: np.ndarray, texts: pa.Array, size: int) -> pd.Series:
    """Per case position (0..size-1): its non-empty texts (`case` gives each text's) joined with a space,
    in the given order ('' for none)."""
    present = pc.fill_null(pc.greater(pc.utf8_length(texts), 0), False).to_numpy(zero_copy_only=False)
    chosen = case[present]
    order = np.argsort(chosen, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(chosen, minlength=size))])
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, pa.int64()), texts.filter(present).take(order))
    return pd.Series(pc.binary_join(lists, pa.scalar(" ", pa.large_string())), dtype="str")


def _of_cases(frame: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """The rows whose case_id is in the index, with its position there as `case`."""
    case = positions(frame["case_id"], index)
    return frame[case >= 0].assign(case=case[case >= 0])


def build(cohort: pd.DataFrame, known: Sources, instant: pd.Timestamp) -> pd.DataFrame:
    """One document per cohort case from what was known before the instant: its description, then its
    notes by event time, then its calls by time of receipt."""
    index = cohort.index
    events = known.events.loc[known.events["event_at"] < instant, ["case_id", "event_at", "note"]]
    events = _of_cases(events, index).sort_values("event_at", kind="stable")
    received = known.hotline["received_at"]
    calls = known.hotline.loc[
        (received >= instant - pd.Timedelta(days=CALL_WINDOW_DAYS)) & (received < instant),
        ["case_id", "received_at", "text"],
    ]
    calls = _of_cases(calls, index).sort_values("received_at", kind="stable")
    case = np.concatenate([np.arange(len(index)), events["case"].to_numpy(), calls["case"].to_numpy()])
    texts = pa.concat_arrays(
        [arrow_strings(t).combine_chunks() for t in (cohort["description"], events["note"], calls["text"])]
    )
    document = _joined(case, texts, len(index)).str[-MAX_CHARS:].set_axis(index)
    return pd.DataFrame({DOCUMENT: document.astype(object)}, index=index)
