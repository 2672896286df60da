"""The call links in the store (`tables.call_links`): the linker's decisions of each day, stored with the
day's list or by a backfill of past days, read back by later runs (`pipelines.stored_links`) and by the
dashboard's case timeline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
from sqlalchemy import ColumnElement, Connection, or_, select

from warehouse import tables
from warehouse.store import Warehouse, append


def _stored_between(first: date, last: date, districts: Sequence[str] | None) -> ColumnElement[bool]:
    """The stored links of the days from `first` to `last` (both included), of calls logged in `districts`
    (as stored) when given."""
    links = tables.call_links.c
    where = (links.as_of >= first) & (links.as_of <= last)
    if districts is not None:  # a link stored without its district (an earlier version's): by its call's
        calls = tables.hotline.c
        theirs = select(calls.call_id).where(calls.district.in_(list(districts)))
        unmarked = links.district.is_(None) & links.call_id.in_(theirs)
        where &= or_(links.district.in_(list(districts)), unmarked)
    return where


def read_call_links(
    warehouse: Warehouse, first: date, last: date, districts: Sequence[str] | None = None
) -> pd.DataFrame:
    """The call links stored of the days from `first` to `last` (both included); with `districts` (as
    stored), only those of calls logged in them."""
    return warehouse.read_table(tables.call_links, _stored_between(first, last, districts))


def stored_link_days(
    warehouse: Warehouse, first: date, last: date, districts: Sequence[str] | None = None
) -> set[date]:
    """The days from `first` to `last` with a stored link (of a call logged in `districts`, when given)."""
    as_of = tables.call_links.c.as_of
    query = select(as_of).where(_stored_between(first, last, districts)).distinct()
    with warehouse.engine.connect() as connection:
        return {pd.Timestamp(day).date() for day in connection.execute(query).scalars()}


def add_call_links(connection: Connection, links: pd.DataFrame) -> None:
    """Store decided links (`features.call_linking.STORED_LINK_COLUMNS`) of days that have none stored for
    their calls yet (a call's link of a day is stored once: a duplicate fails the transaction)."""
    append(connection, tables.call_links, links)
