"""The published list, one artefact kept three ways (Parquet and CSV files in the lists folder, rows in the
store): publishing it, reading it back (by date, or the `latest`), its manifest, the pointer, and what is
recorded with it (grievances, call links, assignments, dormant cases, the outcomes of past lists).

A day's files are all staged (`warehouse.atomic_files`) before any is renamed, then the store's rows are
replaced in one transaction, the manifest file is written, and the `latest` pointer moves last: a reader
following it sees the previous complete day or the new one. Temporary files left by a killed writer are
removed when the next publication starts.

A day's emerging grievances are published with its list, or alone (before any model, or without one):
then only their files and store rows are replaced, and the list, its manifest and `latest` stay as they are.

The list's CSV is for people: headings and band words in the list's language (`language` in its manifest);
its Parquet file and the store keep the contract's names and values. Who acts on the list's cases (the
routing's assignments) is stored with the list, in the same transaction.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Table, delete, func, select

from contracts.routing import ASSIGNMENT_COLUMNS, Routing
from contracts.settings import Settings
from contracts.spreadsheet import neutralised
from contracts.timeparse import local_now
from warehouse import tables
from warehouse.atomic_files import remove_leftovers, write_all_atomic, write_atomic
from warehouse.call_links import add_call_links
from warehouse.dashboard_tables import assignments as assignments_table
from warehouse.store import Warehouse, append

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
    dormant: pd.DataFrame | None = None,
    routing: Routing | None = None,
) -> dict[str, Any]:
    """The small description published beside a list, with its fairness audit by district and category,
    how many emerging grievances (and surges) and dormant cases were published with it, why the list is
    empty when it is, and (when routed) which routing file assigned its cases to how many units."""
    counts = listed["band"].value_counts()
    dormant_count = 0 if dormant is None else len(dormant)
    digest = hashlib.sha256(parquet_bytes(listed)).hexdigest()
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
        "empty_reason": empty_reason(len(listed), dormant_count, as_of, settings.dormant_days),
        "dormant_days": settings.dormant_days,
        "dormant_cases": dormant_count,
        "list_sha256": digest,
        "bands": {band: int(counts.get(band, 0)) for band in ("high", "medium", "low")},
        "grievances": grievance_summary(grievances),
        **({} if routing is None else {"routing": routing_summary(listed, routing)}),
        "fairness": {
            "listed_means": f"in the top {settings.list_top_fraction:.0%} of the list",
            "groups": json.loads(rows.to_json(orient="records", force_ascii=False)),
        },
    }


def routing_summary(listed: pd.DataFrame, routing: Routing) -> dict[str, Any]:
    """Which routing file assigned a list's cases (its path or "default", and the SHA-256 of its text), how
    many cases it assigned and to how many units."""
    units = listed["unit"].dropna() if "unit" in listed.columns else pd.Series(dtype=object)
    return {
        "file": routing.source,
        "sha256": routing.sha256,
        "assigned": len(units),
        "units": int(units.nunique()),
    }


def grievance_summary(grievances: pd.DataFrame) -> dict[str, Any]:
    """How many grievances (and surges) a day published, and the hash of their Parquet file."""
    return {
        "clusters": len(grievances),
        "surges": int(grievances["surge"].sum()),
        "sha256": hashlib.sha256(parquet_bytes(grievances)).hexdigest(),
    }


def empty_reason(cases: int, dormant: int, as_of: date, dormant_days: int) -> str | None:
    """Why a list has no case (None when it has some)."""
    if cases:
        return None
    if dormant:
        return (
            f"no open case was active in the {dormant_days} days before {as_of.isoformat()}: "
            f"all {dormant} open cases are dormant and listed apart"
        )
    return f"no case was open at {as_of.isoformat()}"


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """A published table as Parquet: the values as they are."""
    parquet = io.BytesIO()
    frame.to_parquet(parquet, index=False)
    return parquet.getvalue()


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A published table as Excel-friendly CSV: UTF-8 with BOM, CRLF rows as RFC 4180 says (so a text cell
    holding a bare CR or LF is quoted), text cells that a spreadsheet would run as a formula neutralised."""
    return neutralised(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def table_bytes(frame: pd.DataFrame) -> dict[str, bytes]:
    """A published table as Parquet and as CSV (`parquet_bytes`, `csv_bytes`), the same bytes for equal
    input."""
    return {"parquet": parquet_bytes(frame), "csv": csv_bytes(frame)}


# The list's CSV in Chinese: headings and band words (English keeps the contract's names and values).
LIST_HEADINGS_ZH = {
    "rank": "排名",
    "case_id": "案件编号",
    "district": "区县",
    "town": "乡镇/街道",
    "category": "纠纷类型",
    "opened_at": "登记时间",
    "score": "风险概率",
    "band": "风险等级",
    "reasons": "主要原因",
    "model_version": "模型版本",
    "as_of": "名单日期",
    "unit": "责任单位",
    "assigned_on": "交办日期",
    "due_date": "办理期限",
}
BAND_WORDS_ZH = {"high": "高", "medium": "中", "low": "低"}
DEFAULT_LANGUAGE = Settings.model_fields["language"].default


def for_people(listed: pd.DataFrame, language: str) -> pd.DataFrame:
    """The list as its CSV shows it: in Chinese, headings and band words in Chinese; in English, as it is."""
    if language != "zh":
        return listed
    return listed.assign(band=listed["band"].map(BAND_WORDS_ZH).fillna(listed["band"])).rename(
        columns=LIST_HEADINGS_ZH
    )


def list_bytes(listed: pd.DataFrame, language: str) -> dict[str, bytes]:
    """The list as Parquet (the contract's names and values) and as a CSV for people in its language."""
    return {"parquet": parquet_bytes(listed), "csv": csv_bytes(for_people(listed, language))}


GRIEVANCES_PREFIX = "grievances."
MANIFEST_SUFFIX = "manifest.json"
DORMANT_SUFFIX = "dormant.parquet"


def day_file(lists_dir: Path, as_of: date, suffix: str) -> Path:
    """A day's published file in the lists folder: `<as_of>.<suffix>` (e.g. parquet, manifest.json)."""
    return lists_dir / f"{as_of.isoformat()}.{suffix}"


def table_files(
    lists_dir: Path, as_of: date, payloads: dict[str, bytes], prefix: str = ""
) -> dict[str, tuple[Path, bytes]]:
    """A day's published table as files, by name (`prefix` + parquet or csv): the path
    `<as_of>.<prefix><suffix>` in the lists folder and the bytes (`table_bytes` or `list_bytes`)."""
    return {
        prefix + suffix: (day_file(lists_dir, as_of, prefix + suffix), payload)
        for suffix, payload in payloads.items()
    }


def dormant_bytes(dormant: pd.DataFrame) -> bytes:
    """The day's dormant cases as Parquet."""
    buffer = io.BytesIO()
    dormant.to_parquet(buffer, index=False)
    return buffer.getvalue()


def replace_list(
    connection: Connection,
    as_of: date,
    frame: pd.DataFrame,
    manifest_text: str,
    day_tables: Mapping[Table, pd.DataFrame] | None = None,
) -> None:
    """Replace the stored list, its manifest and the day's other published tables of one as-of date."""
    day_tables = day_tables or {}
    for table in (tables.lists, tables.list_manifests, *day_tables):
        connection.execute(delete(table).where(table.c.as_of == as_of))
    append(connection, tables.lists, frame)
    for table, rows in day_tables.items():
        append(connection, table, rows.assign(as_of=as_of))
    append(
        connection,
        tables.list_manifests,
        pd.DataFrame({"as_of": [as_of], "manifest": [manifest_text], "published_at": [local_now()]}),
    )


def read_list(warehouse: Warehouse, as_of: date) -> pd.DataFrame:
    """The stored list of one as-of date, best first."""
    frame = warehouse.read_table(tables.lists, tables.lists.c.as_of == as_of)
    return frame.sort_values("rank", ignore_index=True)


def publish_list(
    listed: pd.DataFrame,
    description: dict[str, Any],
    lists_dir: Path,
    warehouse: Warehouse,
    grievances: pd.DataFrame,
    links: pd.DataFrame | None = None,
    dormant: pd.DataFrame | None = None,
    assignments: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Replace the list's files (its CSV in the manifest's language), the grievances' and (when given) the
    dormant cases', and the store's list, grievances, who acts on the list's cases (`assignments`, none when
    not given), the call links (when given: the day's replace the day's, those of earlier days the run
    decided are added, `add_call_links`) and manifest, together; then write the manifest file.
    The files are staged and renamed inside the store's transaction, after its rows are written, so a
    failure before the commit changes neither. Temporary files left by a killed earlier writer are removed
    first."""
    as_of = date.fromisoformat(description["as_of"])
    remove_leftovers(lists_dir)
    paths: dict[str, Path] = {}
    files: dict[Path, bytes] = {}
    language = description.get("language", DEFAULT_LANGUAGE)
    published = {"": list_bytes(listed, language), GRIEVANCES_PREFIX: table_bytes(grievances)}
    for prefix, payloads in published.items():
        for name, (path, payload) in table_files(lists_dir, as_of, payloads, prefix).items():
            paths[name] = path
            files[path] = payload
    if dormant is not None:
        paths["dormant"] = day_file(lists_dir, as_of, DORMANT_SUFFIX)
        files[paths["dormant"]] = dormant_bytes(dormant)
    text = json.dumps(description, ensure_ascii=False, indent=2, sort_keys=True)
    with warehouse.transaction() as connection:
        unassigned = pd.DataFrame(columns=list(ASSIGNMENT_COLUMNS))
        day_tables = {
            tables.grievances: grievances,
            assignments_table: unassigned if assignments is None else assignments,
        }
        if links is not None:
            today = (links["as_of"] == as_of).to_numpy(dtype=bool)
            day_tables[tables.call_links] = links[today]
            add_call_links(connection, links[~today])
        replace_list(connection, as_of, listed, text, day_tables)
        write_all_atomic(files)
    paths["manifest"] = day_file(lists_dir, as_of, MANIFEST_SUFFIX)
    write_atomic(paths["manifest"], text.encode())
    return paths


def replace_day_rows(connection: Connection, table: Table, as_of: date, rows: pd.DataFrame) -> None:
    """Replace the rows of one as-of date in a published day table (e.g. the grievances) by these."""
    connection.execute(delete(table).where(table.c.as_of == as_of))
    append(connection, table, rows.assign(as_of=as_of))


def publish_grievances(
    grievances: pd.DataFrame, as_of: date, lists_dir: Path, warehouse: Warehouse
) -> dict[str, Path]:
    """Publish a day's grievances alone: their Parquet and CSV files and the store's grievance rows of the
    day, replaced together. The files are staged and renamed inside the store's transaction, after its
    rows are written, so a failure before the commit changes neither. The day's list, its manifest and
    `latest` are left as they are. Temporary files left by a killed earlier writer are removed first."""
    remove_leftovers(lists_dir)
    files = table_files(lists_dir, as_of, table_bytes(grievances), GRIEVANCES_PREFIX)
    with warehouse.transaction() as connection:
        replace_day_rows(connection, tables.grievances, as_of, grievances)
        write_all_atomic(dict(files.values()))
    return {name: path for name, (path, _) in files.items()}


def published_grievance_dates(lists_dir: Path) -> list[date]:
    """The days whose grievances are published (with a list or alone), newest first."""
    found = lists_dir.glob(f"????-??-??.{GRIEVANCES_PREFIX}parquet")
    return sorted({date.fromisoformat(path.name[:10]) for path in found}, reverse=True)


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


def catch_up_latest(lists_dir: Path, as_of: date, model_version: str) -> bool:
    """Point `latest` at a completed list it was never moved to (a run stopped between the manifest
    and the pointer); returns whether it moved.

    Only forward: a pointer already at a later day, or at this day with this model, stays as it is
    (so does a mark that this day's list was held: it came after the list was published)."""
    current = read_pointer(lists_dir)
    at_this_day = current is not None and date.fromisoformat(current["as_of"]) == as_of
    if at_this_day and (current.get("stale") or current.get("model_version") == model_version):
        return False
    return move_latest(lists_dir, as_of, model_version)


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
    return pointer, pd.read_parquet(day_file(lists_dir, date.fromisoformat(pointer["as_of"]), "parquet"))


def read_manifest(lists_dir: Path, as_of: date) -> dict[str, Any]:
    """The manifest file published beside a day's list ({} when there is none)."""
    path = day_file(lists_dir, as_of, MANIFEST_SUFFIX)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def published_list_dates(lists_dir: Path) -> list[date]:
    """The days whose list is published (a manifest file beside it), oldest first."""
    found = lists_dir.glob(f"????-??-??.{MANIFEST_SUFFIX}")
    return sorted(date.fromisoformat(path.name[:10]) for path in found)


def read_dormant(lists_dir: Path, as_of: date, columns: Sequence[str]) -> pd.DataFrame | None:
    """The columns of the dormant cases published with a day's list (None when the list came without a
    dormant-cases file: older lists)."""
    path = day_file(lists_dir, as_of, DORMANT_SUFFIX)
    return pd.read_parquet(path, columns=list(columns)) if path.exists() else None


OUTCOMES_FILE = "outcomes.json"


def read_outcomes(reports_dir: Path) -> pd.DataFrame:
    """The recorded realised quality of past lists, one row per list (empty before any)."""
    path = reports_dir / OUTCOMES_FILE
    return pd.read_json(path, orient="records", dtype={"as_of": str}) if path.exists() else pd.DataFrame()


def write_outcomes(reports_dir: Path, outcomes: pd.DataFrame) -> None:
    """Replace the recorded realised quality of past lists (atomically)."""
    payload = outcomes.to_json(orient="records", force_ascii=False, indent=2).encode()
    write_atomic(reports_dir / OUTCOMES_FILE, payload)


def newest_list_date(warehouse: Warehouse, by: date, before: bool = False) -> date | None:
    """The day of the newest list published on or before `by` (strictly before, with `before`)."""
    day = tables.list_manifests.c.as_of
    with warehouse.transaction() as connection:
        found = connection.execute(select(func.max(day)).where(day < by if before else day <= by)).scalar()
    return None if found is None else pd.Timestamp(found).date()


def read_assignments(warehouse: Warehouse, as_of: date | None) -> pd.DataFrame:
    """Who acts on the cases of the list of `as_of` (`ASSIGNMENT_COLUMNS`; none for None, or a list
    published without assignments)."""
    if as_of is None:
        return pd.DataFrame(columns=list(ASSIGNMENT_COLUMNS))
    rows = warehouse.read_table(assignments_table, assignments_table.c.as_of == as_of)
    return rows[list(ASSIGNMENT_COLUMNS)].reset_index(drop=True)


def previous_assignments(warehouse: Warehouse, as_of: date) -> pd.DataFrame:
    """Who acts on the cases of the newest list published before `as_of` (none before the first list)."""
    return read_assignments(warehouse, newest_list_date(warehouse, as_of, before=True))


def publish_day(
    listed: pd.DataFrame,
    description: dict[str, Any],
    lists_dir: Path,
    warehouse: Warehouse,
    grievances: pd.DataFrame,
    links: pd.DataFrame | None = None,
    dormant: pd.DataFrame | None = None,
    assignments: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Publish a list (with its grievances, call links, dormant cases and who acts on its cases) and then
    move the `latest` pointer to it: readers see the old list or the new one."""
    paths = publish_list(listed, description, lists_dir, warehouse, grievances, links, dormant, assignments)
    move_latest(lists_dir, date.fromisoformat(description["as_of"]), description["model_version"])
    return paths
