"""Deciding what happens to validated records: new, updated, duplicate or superseded by a later row of the
same key; events held for a missing case."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.masking import mask_column
from contracts.vocabulary import RecordKind
from ingest.readers import ROW_COLUMN

ACCOUNTING_COLUMNS = ("read", "accepted", "updated", "duplicates", "quarantined")
SUPERSEDED = "superseded"
SUPERSEDED_FIELD = "record_key"  # the quarantine field of a row superseded by a later row of its key


def classify(records: pd.DataFrame, existing: pd.Series) -> pd.Series:
    """Per record, within one delivery the last row of a key wins: that row is 'accepted' (new key),
    'updated' or 'duplicate' (same content as the stored version); an earlier row of the key is a
    'duplicate' when it repeats the last row's content, else 'superseded' (quarantined, not stored)."""
    keys = records["record_key"]
    row_hash = records["row_hash"].to_numpy(dtype=object)
    status = np.full(len(records), "accepted", dtype=object)
    if len(existing):
        at = pd.Index(existing.index).get_indexer(keys)  # stored keys are unique
        stored = existing.to_numpy(dtype=object)[at.clip(min=0)]
        status[at >= 0] = "updated"
        status[(at >= 0) & (stored == row_hash)] = "duplicate"
    last = ~keys.duplicated(keep="last").to_numpy()
    if not last.all():
        earlier = ~last
        status[earlier] = "duplicate"
        status[earlier & (row_hash != row_hash[_last_positions(keys, last)])] = SUPERSEDED
    return pd.Series(status, index=records.index, dtype="str")


def _last_positions(keys: pd.Series, last: np.ndarray) -> np.ndarray:
    """Per row, the position of the last row of its key (`last`: whether a row is that last row)."""
    codes, uniques = pd.factorize(keys)
    position = np.empty(len(uniques), dtype=np.int64)
    position[codes[last]] = np.flatnonzero(last)  # one last row per key: no index repeats
    return position[codes]


def latest_versions(records: pd.DataFrame, status: pd.Series) -> pd.DataFrame:
    """The records to write: the new or changed last version of each key."""
    return records[status.isin(("accepted", "updated"))].drop_duplicates("record_key", keep="last")


def last_rows(records: pd.DataFrame) -> pd.Series:
    """Per record, the row number of the last row of the same key in the batch."""
    keys = records["record_key"]
    last = ~keys.duplicated(keep="last").to_numpy()
    rows = records[ROW_COLUMN].to_numpy()
    return pd.Series(rows[_last_positions(keys, last)], index=records.index)


def superseded_reasons(
    kind: RecordKind, source_file: str, rows: pd.Series, keys: pd.Series, later_rows: pd.Series
) -> pd.DataFrame:
    """Quarantine rows for earlier rows of a key whose later row in the same delivery differs (it is kept).

    The field is 'record_key'; the entry carries the key, so a later delivery of the key (from any file)
    releases it, but not the run that wrote it (the next delivery of the same file reads these entries
    to know which rows the file supersedes)."""
    return pd.DataFrame(
        {
            "kind": kind.value,
            "source_file": source_file,
            "row": rows.astype("int64").to_numpy(),
            "field": SUPERSEDED_FIELD,
            "value": mask_column(keys.astype(str)).str.slice(0, 200).to_numpy(),
            "reason": (
                "the same record key appears again at row "
                + later_rows.astype("int64").astype(str)
                + " with different content; the later row is kept"
            ).to_numpy(),
            "record_key": keys.to_numpy(dtype=object),
        }
    )


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
