"""Recording what analysts did about a case: append-only, with who, when and for which unit (the one the
case was assigned to), numbers in notes masked."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, select

from contracts.masking import mask_free_text
from contracts.timeparse import local_now
from warehouse.accounts import Account as Viewer
from warehouse.dashboard_tables import assignments, feedback
from warehouse.store import Warehouse
from warehouse.tables import cases

ACTIONS = ("contacted", "mediation_scheduled", "resolved", "not_a_risk")
MAX_NOTE = 2000


def clean_note(note: str) -> str:
    """A note as stored: trimmed, at most MAX_NOTE characters, phone and ID numbers masked."""
    return mask_free_text(note.strip()[:MAX_NOTE])


def assigned_unit(connection: Connection, case_id: str, list_as_of: date | None) -> str | None:
    """The unit the case was assigned to on the list of `list_as_of` (None when that list did not assign
    it); without a list, on the latest list that assigned it (None when none did)."""
    a = assignments.c
    query = select(a.unit).where(a.case_id == case_id)
    if list_as_of is not None:
        query = query.where(a.as_of == list_as_of)
    return connection.execute(query.order_by(a.as_of.desc()).limit(1)).scalar()


def record_feedback(
    warehouse: Warehouse,
    viewer: Viewer,
    case_id: str,
    action: str,
    note: str = "",
    list_as_of: date | None = None,
) -> int:
    """Append one action on a case by the viewer, for the unit the case was assigned to on the list the
    viewer was looking at (`assigned_unit`), and return its id.

    PermissionError for read-only users and cases outside the viewer's districts; ValueError for an
    unknown action or case. Nothing here updates or deletes feedback (the store refuses it too).
    """
    if not viewer.can_write:
        raise PermissionError(f"{viewer.name} may not record feedback")
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}: one of {', '.join(ACTIONS)}")
    with warehouse.transaction() as connection:
        district = connection.execute(select(cases.c.district).where(cases.c.case_id == case_id)).scalar()
        if district is None:
            raise ValueError(f"no case {case_id!r}")
        if not viewer.sees(district):
            raise PermissionError(f"{viewer.name} may not act on cases of {district}")
        result = connection.execute(
            feedback.insert().values(
                case_id=case_id,
                district=district,
                action=action,
                note=clean_note(note) or None,
                user_name=viewer.name,
                recorded_at=local_now().to_pydatetime(),
                list_as_of=list_as_of,
                unit=assigned_unit(connection, case_id, list_as_of),
            )
        )
        return int(result.inserted_primary_key[0])
