"""Publishing a list: files written atomically, the store updated in one transaction, manifest last."""

from __future__ import annotations

import hashlib
import io
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from contracts.settings import Settings
from features.sources import Sources
from warehouse import tables
from warehouse.store import Warehouse


def input_fingerprint(known: Sources) -> str:
    """A hash of exactly which record versions a list was built from."""
    digest = hashlib.sha256()
    for name, frame in (("cases", known.cases), ("events", known.events), ("hotline", known.hotline)):
        digest.update(name.encode())
        pairs = frame[["record_key", "row_hash"]].sort_values("record_key")
        digest.update(pd.util.hash_pandas_object(pairs, index=False).to_numpy().tobytes())
    return digest.hexdigest()


AUDIT_COLUMNS = (
    "attribute",
    "group",
    "n",
    "n_listed",
    "share_listed",
    "share_listed_ratio",
    "status",
    "flagged",
)


def manifest(
    listed: pd.DataFrame,
    as_of: date,
    model_version: str,
    fingerprint: str,
    settings: Settings,
    audit: pd.DataFrame,
    grievances: pd.DataFrame,
) -> dict[str, Any]:
    """The small description published beside a list, with its fairness audit by district and category
    and how many emerging grievances (and surges) were published with it."""
    counts = listed["band"].value_counts()
    digest = hashlib.sha256(table_bytes(listed)["parquet"]).hexdigest()
    rows = audit[list(AUDIT_COLUMNS)].round({"share_listed": 6, "share_listed_ratio": 6})
    return {
        "as_of": as_of.isoformat(),
        "generated_at": pd.Timestamp.now(tz="Asia/Shanghai").isoformat(timespec="seconds"),
        "model_version": model_version,
        "input_fingerprint": fingerprint,
        "horizon_days": settings.horizon_days,
        "escalation_events": [str(t) for t in settings.escalation_events],
        "band_thresholds": {
            "high": settings.band_high,
            "medium": settings.band_medium,
            "high_capacity": settings.band_high_capacity,
        },
        "language": settings.language,
        "cases": len(listed),
        "list_sha256": digest,
        "bands": {band: int(counts.get(band, 0)) for band in ("high", "medium", "low")},
        "grievances": {
            "clusters": len(grievances),
            "surges": int(grievances["surge"].sum()),
            "sha256": hashlib.sha256(table_bytes(grievances)["parquet"]).hexdigest(),
        },
        "fairness": {
            "listed_means": f"in the top {settings.list_top_fraction:.0%} of the list",
            "groups": json.loads(rows.to_json(orient="records", force_ascii=False)),
        },
    }


def write_atomic(path: Path, payload: bytes) -> None:
    """Replace a file in one step: temporary file beside it, fsync, rename (readers never see half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def table_bytes(frame: pd.DataFrame) -> dict[str, bytes]:
    """A published table as Parquet and as Excel-friendly CSV (UTF-8 with BOM), the same bytes for equal
    input."""
    parquet = io.BytesIO()
    frame.to_parquet(parquet, index=False)
    csv = frame.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
    return {"parquet": parquet.getvalue(), "csv": csv}


def publish_list(
    listed: pd.DataFrame,
    description: dict[str, Any],
    lists_dir: Path,
    warehouse: Warehouse,
    grievances: pd.DataFrame,
    links: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Write the list's and the grievances' files, then the store's list, grievances, the day's call links
    (when given) and manifest in one transaction, then the manifest file."""
    as_of = date.fromisoformat(description["as_of"])
    paths: dict[str, Path] = {}
    for prefix, frame in (("", listed), ("grievances.", grievances)):
        for suffix, payload in table_bytes(frame).items():
            paths[prefix + suffix] = lists_dir / f"{as_of.isoformat()}.{prefix}{suffix}"
            write_atomic(paths[prefix + suffix], payload)
    text = json.dumps(description, ensure_ascii=False, indent=2, sort_keys=True)
    with warehouse.transaction() as connection:
        day_tables = {tables.grievances: grievances}
        if links is not None:
            day_tables[tables.call_links] = links
        warehouse.replace_list(connection, as_of, listed, text, day_tables)
    paths["manifest"] = lists_dir / f"{as_of.isoformat()}.manifest.json"
    write_atomic(paths["manifest"], text.encode())
    return paths


LATEST_FILE = "latest.json"


def read_pointer(lists_dir: Path) -> dict[str, Any] | None:
    """The `latest` pointer: which list readers should show, and whether it is stale (None before any)."""
    path = lists_dir / LATEST_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def move_latest(lists_dir: Path, as_of: date, model_version: str) -> bool:
    """Point readers at the list of `as_of`, unless a later day's list is already the latest.

    Written last, atomically, after the list files and the store: a reader following the pointer
    only ever finds a complete list. Returns whether the pointer moved.
    """
    current = read_pointer(lists_dir)
    if current is not None and date.fromisoformat(current["as_of"]) > as_of:
        return False
    pointer = {"as_of": as_of.isoformat(), "model_version": model_version, "stale": False}
    write_atomic(lists_dir / LATEST_FILE, json.dumps(pointer, ensure_ascii=False, indent=2).encode())
    return True


def mark_stale(lists_dir: Path, held_as_of: date, reasons: list[str]) -> dict[str, Any] | None:
    """Keep the latest list in place but mark it stale, with the day whose list was held and why.

    A held day older than the latest list (a backfill) leaves the pointer as it is.
    """
    current = read_pointer(lists_dir)
    if current is None or date.fromisoformat(current["as_of"]) > held_as_of:
        return current
    pointer = {**current, "stale": True, "held": {"as_of": held_as_of.isoformat(), "reasons": reasons}}
    write_atomic(lists_dir / LATEST_FILE, json.dumps(pointer, ensure_ascii=False, indent=2).encode())
    return pointer


def read_latest(lists_dir: Path) -> tuple[dict[str, Any], pd.DataFrame] | None:
    """The pointer and the complete list it points at (what a dashboard shows), or None before any."""
    pointer = read_pointer(lists_dir)
    if pointer is None:
        return None
    return pointer, pd.read_parquet(lists_dir / f"{pointer['as_of']}.parquet")


def publish_day(
    listed: pd.DataFrame,
    description: dict[str, Any],
    lists_dir: Path,
    warehouse: Warehouse,
    grievances: pd.DataFrame,
    links: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Publish a list (with its grievances and call links) and then move the `latest` pointer to it:
    readers see the old list or the new one."""
    paths = publish_list(listed, description, lists_dir, warehouse, grievances, links)
    move_latest(lists_dir, date.fromisoformat(description["as_of"]), description["model_version"])
    return paths
