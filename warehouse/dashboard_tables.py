"""The dashboard's tables: analysts' accounts, their append-only feedback on listed cases, and the
append-only audit log of logins, logouts and cases opened (which also holds the login throttle's state)."""

from __future__ import annotations

from sqlalchemy import DDL, Column, Date, DateTime, Integer, String, Table, Text, event

from warehouse.tables import metadata

# Who may log in to the dashboard; passwords are stored only as scrypt hashes with a per-user salt.
users = Table(
    "users",
    metadata,
    Column("name", String, primary_key=True),
    Column("role", String, nullable=False),
    Column("districts", Text, nullable=False),  # JSON list; empty for every district (admin, viewer)
    Column("password_hash", String, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

# What analysts did about a case: one row per action, never updated or deleted (an audit trail).
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String, nullable=False, index=True),
    Column("district", String, nullable=False, index=True),
    Column("action", String, nullable=False),
    Column("note", Text),  # typed by an analyst; phone and ID numbers are masked before storing
    Column("user_name", String, nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    Column("list_as_of", Date),  # the list the analyst was looking at, if any
)

# Who logged in, failed, was refused, logged out, timed out or opened a case: one row per event, never
# updated or deleted. Failed logins in it are the throttle's state, shared by every session and process.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("event", String, nullable=False),  # see dashboards.audit.EVENTS
    Column("user_name", String),  # an existing account's name only: a typed name that is none is not kept
    Column("login_key", String, index=True),  # digest of the name typed at login (throttle per account)
    Column("address", String, nullable=False, index=True),  # the client's address, or "unknown"
    Column("case_id", String),  # the case opened
)

for _table in (feedback, audit_log):
    for _operation in ("UPDATE", "DELETE"):
        event.listen(
            _table,
            "after_create",
            DDL(
                f"CREATE TRIGGER IF NOT EXISTS {_table.name}_no_{_operation.lower()} BEFORE {_operation} "
                f"ON {_table.name} BEGIN SELECT RAISE(ABORT, '{_table.name} is append-only'); END"
            ).execute_if(dialect="sqlite"),
        )
