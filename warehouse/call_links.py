"""The call links in the store (`tables.call_links`): the linker's decisions of each day, stored with the
day's list or for past days (training, `fengqiao links`), each with its call's district, read back by
later runs (`pipelines.stored_links`), by district parts through that district, and by the dashboard's
case timeline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import ColumnElement, Connection, delete, select

from warehouse import tables
from warehouse.store import Warehouse, append, id_chunks, reading


def _stored_between(first: date, last: date, districts: Sequence[str] | None) -> ColumnElement[bool]:
    """The stored links of the days from `first` to `last` (both included), of calls logged in `districts`
    (as stored) when given."""
    links = tables.call_links.c
    where = (links.as_of >= first) & (links.as_of <= last)
    if districts is not None:
        where &= links.district.in_(list(districts))
    return where


def read_call_links(
    warehouse: Warehouse, first: date, last: date, districts: Sequence[str] | None = None
) -> pd.DataFrame:
    """The call links stored of the days from `first` to `last` (both included); with `districts` (as
    stored), only those of calls logged in them."""
    return warehouse.read_table(tables.call_links, _stored_between(first, last, districts))


def stored_link_districts(
    warehouse: Warehouse, first: date, last: date, districts: Sequence[str] | None = None
) -> set[tuple[date, str]]:
    """The (day, district) pairs from `first` to `last` with a stored link (of the `districts`, as stored,
    when given)."""
    links = tables.call_links.c
    query = select(links.as_of, links.district).where(_stored_between(first, last, districts)).distinct()
    with reading(warehouse.engine) as connection:
        return {(pd.Timestamp(day).date(), district) for day, district in connection.execute(query)}


def stored_link_days(
    warehouse: Warehouse, first: date, last: date, districts: Sequence[str] | None = None
) -> set[date]:
    """The days from `first` to `last` with a stored link: of a call of each of the `districts` (as stored)
    when given, else of any call."""
    present = stored_link_districts(warehouse, first, last, districts)
    if districts is None:
        return {day for day, _ in present}
    return days_of_each(present, districts)


def unlinked_days(warehouse: Warehouse, first: date, last: date, districts: Sequence[str]) -> list[date]:
    """The days from `first` to `last` on which one of the districts (as stored) has no stored link, in
    order."""
    done = stored_link_days(warehouse, first, last, districts)
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in days if day not in done]


def days_of_each(present: set[tuple[date, str]], districts: Sequence[str]) -> set[date]:
    """The days of the (day, district) pairs on which each of the districts has a pair."""
    return {day for day, _ in present if all((day, district) in present for district in districts)}


def add_call_links(connection: Connection, links: pd.DataFrame) -> None:
    """Store decided links (`features.call_linking.STORED_LINK_COLUMNS`), each replacing a link stored
    before for the same call and day (decided again because its district or inputs changed, or by another
    run at the same time)."""
    table = tables.call_links
    for day, calls in links.groupby("as_of", sort=True)["call_id"]:
        for ids in id_chunks(calls.astype(object).tolist()):
            connection.execute(delete(table).where(table.c.as_of == day, table.c.call_id.in_(ids)))
    append(connection, table, links)
