"""Reading the store for a day by district parts without reading it whole: the rows a day's grievances
read (a window of time, selected by the database), the reference cases of the base rates, and narrow
reads for the list's input fingerprint, the routing check and the input volumes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import (
    Column,
    ColumnElement,
    Select,
    and_,
    false,
    func,
    literal_column,
    or_,
    select,
)

from contracts.vocabulary import RecordKind
from warehouse import tables
from warehouse.fingerprints import KINDS, VersionSum, fingerprint, version_sum
from warehouse.store import Warehouse, fetched_rows, reading, storage_order

ROWID = storage_order("sqlite")  # SQLite's storage order (its rowid)
MARGIN = pd.Timedelta(days=1)  # bounds compared by the database are widened by this (stored text forms)


@dataclass(frozen=True)
class WindowBounds:
    """The bounds of a day's window (what its grievances read): calls received since `calls_from`; cases
    opened since `cases_from` or quoted by one of those calls."""

    calls_from: datetime
    cases_from: datetime


def known_before(
    filters: dict[RecordKind, ColumnElement[bool]], until: datetime | None
) -> dict[RecordKind, ColumnElement[bool]]:
    """The filters keeping only the rows known before `until` (widened by MARGIN: the readers cut exactly),
    so that a past day's read holds none of the later rows; as they are without `until`."""
    if until is None:
        return filters
    limit = until + MARGIN
    known = {kind: tables.INPUT_TABLES[kind].c.known_at < limit for kind in filters}
    return {kind: and_(where, known[kind]) for kind, where in filters.items()}


def window_filters(
    bounds: WindowBounds, until: datetime | None = None
) -> dict[RecordKind, ColumnElement[bool]]:
    """Per input kind, the rows of a day's window (`WindowBounds`), each bound widened by MARGIN (the
    readers cut exactly): the calls received since `calls_from`; the cases opened since `cases_from` or
    quoted by one of those calls; those cases' events; all known before `until`."""
    calls_from, cases_from = (t - MARGIN for t in (bounds.calls_from, bounds.cases_from))
    cases, calls, events = tables.cases.c, tables.hotline.c, tables.case_events.c
    quoting = tables.hotline.alias("quoting").c
    quoted = select(quoting.case_id).where(quoting.received_at >= calls_from, quoting.case_id.is_not(None))
    chosen = or_(cases.opened_at >= cases_from, cases.case_id.in_(quoted))
    filters = {
        RecordKind.CASES: chosen,
        RecordKind.CASE_EVENTS: events.case_id.in_(select(cases.case_id).where(chosen)),
        RecordKind.HOTLINE: calls.received_at >= calls_from,
    }
    return known_before(filters, until)


def reference_filters(
    opened_from: datetime, event_types: Sequence[str], until: datetime | None = None
) -> dict[RecordKind, ColumnElement[bool]]:
    """Per input kind, the rows the base rates read: the cases opened since `opened_from` and their events
    of the given types (no call), known before `until`; the bounds widened by MARGIN."""
    opened_from = opened_from - MARGIN
    cases, events = tables.cases.c, tables.case_events.c
    recent = select(cases.case_id).where(cases.opened_at >= opened_from)
    # the events' case id compared as an expression, not by its index: most cases are recent, and one pass
    # over the events costs SQLite less than looking most of them up case by case (a province of 18.6
    # million events: 19 s against 50 s a read, bench/README.md "province")
    filters = {
        RecordKind.CASES: cases.opened_at >= opened_from,
        RecordKind.CASE_EVENTS: events.case_id.concat("").in_(recent)
        & events.event_type.in_(list(event_types)),
        RecordKind.HOTLINE: false(),
    }
    return known_before(filters, until)


def stored_sum(
    warehouse: Warehouse, kind: RecordKind, instant: pd.Timestamp | None, chunk_rows: int = 200_000
) -> VersionSum:
    """The `VersionSum` of one input kind's records known before the instant (None: of every stored one):
    those surely known before it (MARGIN earlier) by their row hashes alone, read in the store's own order
    a chunk at a time (never the whole table, no sort, no index), those near it with their knowledge time,
    cut exactly."""
    table = tables.INPUT_TABLES[kind]
    found = VersionSum()
    with reading(warehouse.engine) as connection:
        dialect = connection.dialect.name
        if dialect == "sqlite":  # a chunk of rowids' hashes as one text: no Python object per row
            last = connection.execute(select(func.max(ROWID)).select_from(table)).scalar() or 0
            for first in range(0, last + 1, chunk_rows):
                text = connection.execute(
                    surely_known_text(kind, instant, first, first + chunk_rows)
                ).scalar()
                found = found + version_sum([text or ""])
        else:
            for rows in fetched_rows(connection, surely_known(kind, instant, dialect), chunk_rows):
                found = found + version_sum(row[0] for row in rows)
    if instant is None:
        return found
    near = (table.c.known_at >= instant - MARGIN) & (table.c.known_at < instant + MARGIN)
    close = warehouse.read_records(kind, ["row_hash", "known_at"], chunk_rows, where=near)
    return found + version_sum(close.loc[(close["known_at"] < instant).to_numpy(), "row_hash"])


def surely_known(kind: RecordKind, instant: pd.Timestamp | None, dialect: str) -> Select:
    """The row hashes of one input kind's records known MARGIN before the instant or earlier (None: all),
    read by a scan of the table (`_scanned`)."""
    table = tables.INPUT_TABLES[kind]
    hashes = select(table.c.row_hash)
    return hashes if instant is None else hashes.where(_scanned(table.c.known_at, dialect) < instant - MARGIN)


def surely_known_text(kind: RecordKind, instant: pd.Timestamp | None, first: int, stop: int) -> Select:
    """On SQLite, `surely_known`'s hashes of the rowids from `first` to before `stop` as one text (a range
    of the table read in its own order)."""
    table = tables.INPUT_TABLES[kind]
    hashes = surely_known(kind, instant, "sqlite").with_only_columns(func.group_concat(table.c.row_hash, ""))
    return hashes.where(first <= ROWID, stop > ROWID)


def _scanned(column: Column, dialect: str) -> ColumnElement:
    """A column compared as an expression, not by its index: on SQLite a range of most of a table through
    the index looks its rows up one by one (a province's 55 million calls); a scan reads them in order."""
    if dialect == "sqlite":
        return literal_column(f"+{column.table.name}.{column.name}", type_=column.type)
    return column


def stored_fingerprint(warehouse: Warehouse, instant: pd.Timestamp | None = None) -> str:
    """`day_list.input_fingerprint` of the records known before the instant (None: of every stored record,
    `warehouse.fingerprints.records_fingerprint` of a full read), from narrow reads."""
    kinds = (RecordKind.CASES, RecordKind.CASE_EVENTS, RecordKind.HOTLINE)
    return fingerprint(
        {name: stored_sum(warehouse, kind, instant) for name, kind in zip(KINDS, kinds, strict=True)}
    )


def stored_places(warehouse: Warehouse) -> tuple[list[str], list[str]]:
    """The districts and the (non-blank-missing) towns of every stored case, each once."""
    cases = tables.cases.c
    with reading(warehouse.engine) as connection:
        districts = [row[0] for row in connection.execute(select(cases.district).distinct())]
        towns = [row[0] for row in connection.execute(select(cases.town).distinct()) if row[0] is not None]
    return districts, towns


def known_times(warehouse: Warehouse, start: pd.Timestamp) -> pd.Series:
    """When each record of every input kind known since `start` (widened by MARGIN) became known."""
    frames = [
        warehouse.read_records(
            kind, ["known_at"], where=tables.INPUT_TABLES[kind].c.known_at >= start - MARGIN
        )
        for kind in (RecordKind.CASES, RecordKind.CASE_EVENTS, RecordKind.HOTLINE)
    ]
    return pd.concat([f["known_at"] for f in frames], ignore_index=True)
