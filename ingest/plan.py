"""Deciding what an ingest run writes: new, updated and duplicate records, orphans, and the accounting."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from contracts.vocabulary import RecordKind
from ingest.readers import ROW_COLUMN
from ingest.validate import ValidatedFile, empty_quarantine

KIND_ORDER = (RecordKind.CASES, RecordKind.CASE_EVENTS, RecordKind.HOTLINE)
ACCOUNTING_COLUMNS = ("source_file", "kind", "read", "accepted", "updated", "duplicates", "quarantined")


@dataclass(frozen=True)
class IngestPlan:
    """Everything one ingest run will write, decided before anything is written."""

    writes: dict[RecordKind, pd.DataFrame]
    quarantine: pd.DataFrame
    accounting: pd.DataFrame


def classify(records: pd.DataFrame, existing: pd.Series) -> pd.Series:
    """Per record: 'accepted' (new key), 'duplicate' (same content as the version before) or 'updated'."""
    previous = records.groupby("record_key", sort=False)["row_hash"].shift(1)
    first = previous.isna()
    previous = previous.where(~first, records["record_key"].map(existing))
    status = pd.Series("updated", index=records.index)
    status[previous.isna()] = "accepted"
    status[previous == records["row_hash"]] = "duplicate"
    return status


def hold_orphan_events(events: ValidatedFile, known_case_ids: set[str]) -> ValidatedFile:
    """Events whose case is unknown move to quarantine with a reason to deliver the case first."""
    orphan = ~events.records["case_id"].isin(known_case_ids)
    if not orphan.any():
        return events
    rows = events.records.loc[orphan]
    held = pd.DataFrame(
        {
            "kind": events.kind.value,
            "source_file": events.source_file,
            "row": rows[ROW_COLUMN].astype("int64"),
            "field": "case_id",
            "value": rows["case_id"],
            "reason": "case '"
            + rows["case_id"]
            + "' is not in the store; ingest its cases file, then this one again",
        }
    )
    quarantine = pd.concat([events.quarantine, held], ignore_index=True) if len(events.quarantine) else held
    return replace(events, records=events.records.loc[~orphan].reset_index(drop=True), quarantine=quarantine)


def plan_ingest(
    files: list[ValidatedFile], existing: dict[RecordKind, pd.Series], known_case_ids: set[str]
) -> IngestPlan:
    """The writes, quarantine and per-file accounting of one run over validated files."""
    ordered = sorted(files, key=lambda f: (KIND_ORDER.index(f.kind), f.source_file))
    case_ids = set(known_case_ids)
    current = {kind: existing.get(kind, pd.Series(dtype="object")) for kind in KIND_ORDER}
    pending: dict[RecordKind, list[pd.DataFrame]] = {kind: [] for kind in KIND_ORDER}
    quarantines, accounting = [], []
    for validated in ordered:
        if validated.kind is RecordKind.CASE_EVENTS:
            validated = hold_orphan_events(validated, case_ids)
        records = validated.records
        status = classify(records, current[validated.kind])
        changed = records[status != "duplicate"]
        pending[validated.kind].append(changed)
        latest = changed.drop_duplicates("record_key", keep="last").set_index("record_key")["row_hash"]
        merged = pd.concat([current[validated.kind], latest])
        current[validated.kind] = merged[~merged.index.duplicated(keep="last")]
        if validated.kind is RecordKind.CASES:
            case_ids.update(records["case_id"])
        quarantines.append(validated.quarantine)
        accounting.append(
            {
                "source_file": validated.source_file,
                "kind": validated.kind.value,
                "read": validated.read,
                "accepted": int((status == "accepted").sum()),
                "updated": int((status == "updated").sum()),
                "duplicates": int((status == "duplicate").sum()),
                "quarantined": validated.quarantined_rows,
            }
        )
    writes = {
        kind: pd.concat(frames, ignore_index=True).drop_duplicates("record_key", keep="last")
        for kind, frames in pending.items()
        if frames
    }
    found = [q for q in quarantines if len(q)]
    quarantine = pd.concat(found, ignore_index=True) if found else empty_quarantine()
    return IngestPlan(writes, quarantine, pd.DataFrame(accounting, columns=list(ACCOUNTING_COLUMNS)))
