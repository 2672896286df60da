"""Deciding what happens to validated records: new, updated or duplicate; events held for a missing case."""

from __future__ import annotations

import pandas as pd

from ingest.readers import ROW_COLUMN

ACCOUNTING_COLUMNS = ("read", "accepted", "updated", "duplicates", "quarantined")


def classify(records: pd.DataFrame, existing: pd.Series) -> pd.Series:
    """Per record: 'accepted' (new key), 'duplicate' (same content as the version before) or 'updated'."""
    previous = records.groupby("record_key", sort=False)["row_hash"].shift(1)
    first = previous.isna()
    previous = previous.where(~first, records["record_key"].map(existing))
    status = pd.Series("updated", index=records.index)
    status[previous.isna()] = "accepted"
    status[previous == records["row_hash"]] = "duplicate"
    return status


def latest_versions(records: pd.DataFrame, status: pd.Series) -> pd.DataFrame:
    """The records to write: the last non-duplicate version of each key."""
    return records[status != "duplicate"].drop_duplicates("record_key", keep="last")


def held_reasons(orphans: pd.DataFrame, source_file: str) -> pd.DataFrame:
    """Quarantine rows for events whose case is not in the store: held, and why, and what releases them."""
    return pd.DataFrame(
        {
            "kind": "case_events",
            "source_file": source_file,
            "row": orphans[ROW_COLUMN].astype("int64"),
            "field": "case_id",
            "value": orphans["case_id"],
            "reason": "held: case '"
            + orphans["case_id"]
            + "' is not in the store; the event is kept and released when that case is ingested",
            "record_key": orphans["record_key"],
        }
    )
