"""The audit log: who logged in, failed, was refused, came back with a session cookie, logged out, timed out,
opened a case or was refused one, and when.

Rows are appended in the caller's transaction and never changed (the store refuses it). A name typed at
login is kept only as a digest unless it is an existing account's name, so a password typed into the
name field never reaches the store; passwords never do.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, select
from sqlalchemy.exc import OperationalError

from dashboards.source import DataSource
from warehouse.dashboard_tables import audit_log
from warehouse.store import Warehouse

LOGIN_SUCCESS = "login_success"
LOGIN_FAILURE = "login_failure"
LOGIN_REFUSED = "login_refused"  # too many failures: refused without checking the password
LOGOUT = "logout"
IDLE_EXPIRY = "idle_expiry"
CASE_OPENED = "case_opened"
SESSION_RESUMED = "session_resumed"  # a reload or a new tab let in by a valid session cookie
CASE_REFUSED = "case_refused"  # a link to a case that does not exist or is outside the user's districts
EVENTS = (
    LOGIN_SUCCESS,
    LOGIN_FAILURE,
    LOGIN_REFUSED,
    LOGOUT,
    IDLE_EXPIRY,
    CASE_OPENED,
    SESSION_RESUMED,
    CASE_REFUSED,
)
UNKNOWN_ADDRESS = "unknown"
AUDIT_COLUMNS = ("at", "event", "user_name", "address", "case_id")


UNKNOWN_NAME_BUCKET_DIGITS = 2


def login_key(name: str, known: bool = True) -> str:
    """What a typed login name is throttled and logged under: a digest of an account's name; for a name that
    is no account (perhaps a password typed in the wrong field), one of 256 buckets, which says next to
    nothing about what was typed but still throttles guessing under made-up names."""
    digest = hashlib.sha256(f"fengqiao-login\0{name.strip()}".encode()).hexdigest()
    return digest[:32] if known else "unknown-" + digest[:UNKNOWN_NAME_BUCKET_DIGITS]


def record(
    connection: Connection,
    event: str,
    at: datetime,
    address: str,
    user_name: str | None = None,
    key: str | None = None,
    case_id: str | None = None,
) -> None:
    """Append one event (ValueError for an event that is not one of EVENTS)."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}: one of {', '.join(EVENTS)}")
    connection.execute(
        audit_log.insert().values(
            at=at,
            event=event,
            user_name=user_name,
            login_key=key,
            address=address or UNKNOWN_ADDRESS,
            case_id=case_id,
        )
    )


def append(
    warehouse: Warehouse,
    event: str,
    at: datetime,
    address: str,
    user_name: str | None = None,
    case_id: str | None = None,
) -> None:
    """Append one event in a transaction of its own (a logout, an idle expiry, a resumed session, a case
    opened or refused)."""
    with warehouse.transaction() as connection:
        record(connection, event, at, address, user_name, case_id=case_id)


def recent(source: DataSource, limit: int = 500, event: str | None = None) -> pd.DataFrame:
    """The latest audit events, newest first (empty when the store has no audit log yet)."""
    a = audit_log.c
    query = select(*(a[name] for name in AUDIT_COLUMNS)).order_by(a.id.desc()).limit(limit)
    if event is not None:
        query = query.where(a.event == event)
    try:
        return source.read(query, dates=("at",))
    except OperationalError:
        return pd.DataFrame(columns=list(AUDIT_COLUMNS))
