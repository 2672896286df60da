"""Reading the store by district parts: each part's rows selected by the database, and the rows each
district holds (what the parts are balanced by)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import ColumnElement, or_, select

from contracts.vocabulary import RecordKind
from warehouse import tables
from warehouse.store import Warehouse


def district_rows(warehouse: Warehouse) -> pd.Series:
    """Stored cases and hotline records per district (as stored), sorted by district."""
    per_kind = [warehouse.rows_per(kind, "district") for kind in (RecordKind.CASES, RecordKind.HOTLINE)]
    return per_kind[0].add(per_kind[1], fill_value=0).astype("int64").sort_index()


def part_filters(districts: Sequence[str]) -> dict[RecordKind, ColumnElement[bool]]:
    """Per input kind, the rows a part of these districts (as stored) reads: its cases; their events;
    the calls logged in its districts, and the calls of other districts that quote one of its case
    numbers or come from a phone one of its cases names as the reporter's."""
    cases, calls = tables.cases.c, tables.hotline.c
    own = cases.district.in_(list(districts))
    case_ids = select(cases.case_id).where(own)
    phones = select(cases.reporter_phone_pid).where(own, cases.reporter_phone_pid.is_not(None))
    return {
        RecordKind.CASES: own,
        RecordKind.CASE_EVENTS: tables.case_events.c.case_id.in_(case_ids),
        RecordKind.HOTLINE: or_(
            calls.district.in_(list(districts)),
            calls.case_id.in_(case_ids),
            calls.caller_phone_pid.in_(phones),
        ),
    }
