"""The worklists' reads: who acts on a published list's cases (the unit, by when), what was done since,
which cases are overdue, and each unit's load against its capacity.

Restricted to the viewer's districts exactly as every other read (`dashboards.queries`): in the SQL, and
checked again on the result. The counting rules are `contracts.routing`'s, the daily report's too.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import inspect, select

from contracts.routing import unit_summary, work_status
from contracts.timeparse import local_now
from dashboards.queries import _guard, _in_districts, feedback_summary
from dashboards.source import DataSource
from warehouse.accounts import Account as Viewer
from warehouse.dashboard_tables import assignments, feedback
from warehouse.tables import lists

ASSIGNED_COLUMNS = (
    "rank",
    "case_id",
    "district",
    "town",
    "category",
    "score",
    "band",
    "reasons",
    "unit",
    "capacity",
    "assigned_on",
    "due_date",
)
# A unit's worklist as shown: overdue cases first.
WORKLIST_SHOWN = (
    "work_status",
    "rank",
    "case_id",
    "district",
    "town",
    "category",
    "band",
    "score",
    "assigned_on",
    "due_date",
    "done_so_far",
    "reasons",
)
UNITS_SHOWN = ("unit", "capacity", "assigned", "new_assigned", "acted", "overdue", "over_capacity")


def today() -> date:
    """The local day overdue cases are judged on."""
    return local_now().date()


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Stored dates (ISO text on SQLite) as dates."""
    for column in columns:
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def assigned_cases(
    viewer: Viewer, source: DataSource, as_of: date, case_id: str | None = None
) -> pd.DataFrame:
    """The cases a list assigned to a unit (or just `case_id`), in the viewer's districts, by rank: the
    list's row, the unit (with its capacity in cases a day), the day it was assigned and its due date. None
    for a list published before assignments existed (or a store that has none yet)."""
    if not inspect(source.engine).has_table(assignments.name):
        return pd.DataFrame(columns=list(ASSIGNED_COLUMNS))
    a, c = assignments.c, lists.c
    query = (
        select(*(c[name] for name in ASSIGNED_COLUMNS[:8]), *(a[name] for name in ASSIGNED_COLUMNS[8:]))
        .join_from(assignments, lists, (a.as_of == c.as_of) & (a.case_id == c.case_id))
        .where(a.as_of == as_of, _in_districts(a.district, viewer))
        .order_by(c.rank)
    )
    if case_id is not None:
        query = query.where(a.case_id == case_id)
    return _guard(_dates(source.read(query), "assigned_on", "due_date"), viewer)


def case_actions(viewer: Viewer, source: DataSource, case_ids: list[str]) -> pd.DataFrame:
    """When each action on these cases (in the viewer's districts) was recorded."""
    f = feedback.c
    query = select(f.case_id, f.recorded_at, f.district).where(
        f.case_id.in_(case_ids), _in_districts(f.district, viewer)
    )
    return _guard(source.read(query, dates=("recorded_at",)), viewer)


def worklists(viewer: Viewer, source: DataSource, as_of: date, reference: date) -> pd.DataFrame:
    """Every unit's cases on a list (viewer's districts): `assigned_cases` with what was done since each
    was assigned (`acted`), whether it is overdue on the `reference` day and by how many days, and what
    was done so far (the latest action, as the list shows it)."""
    rows = assigned_cases(viewer, source, as_of)
    actions = case_actions(viewer, source, rows["case_id"].tolist())
    status = work_status(rows, actions, reference)
    done = feedback_summary(viewer, source)
    status = status.merge(done, on="case_id", how="left")
    status["actions"] = status["actions"].fillna(0).astype(int)
    return status


def units(work: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per unit of the worklists, by name: capacity (cases a day), cases assigned, new on the list of
    `as_of`, acted on, overdue, and whether the new cases are more than it takes in a day."""
    return unit_summary(work, as_of).rename(columns={"new": "new_assigned"})


def unit_worklist(work: pd.DataFrame, unit: str) -> pd.DataFrame:
    """One unit's cases: the overdue ones first (longest overdue first), then by rank."""
    own = work[work["unit"] == unit]
    order = ["overdue", "days_overdue", "rank"]
    return own.sort_values(order, ascending=[False, False, True], ignore_index=True)


def case_assignment(viewer: Viewer, source: DataSource, case_id: str, as_of: date) -> pd.Series | None:
    """Who acts on one case on the list of `as_of`, and by when (None when that list did not assign it, or
    the viewer may not see it): unit, capacity, assigned_on, due_date."""
    found = assigned_cases(viewer, source, as_of, case_id)
    return None if found.empty else found.iloc[0][["unit", "capacity", "assigned_on", "due_date"]]
