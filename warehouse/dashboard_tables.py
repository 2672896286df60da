"""The dashboard's tables: analysts' accounts, their append-only feedback on listed cases, the append-only
audit log of logins, logouts and cases opened (which also holds the login throttle's state), and who acts
on each published list's cases (the worklists).

A column added here later must be nullable: a store made before it gets it when next opened
(`add_missing_columns`, run after every `create_all`), so old stores stay readable and writable.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    DDL,
    Column,
    Connection,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
    inspect,
)

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
    Column("unit", String),  # the unit the case was assigned to on that list (else on its latest list)
)

# Who acts on each published list's high and medium cases (contracts.routing), replaced with the list in
# its transaction; the unit's capacity (cases a day) as the routing file said when the list was published.
assignments = Table(
    "assignments",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("case_id", String, primary_key=True),
    Column("district", String, nullable=False, index=True),
    Column("unit", String, nullable=False, index=True),
    Column("capacity", Integer, nullable=False),
    Column("assigned_on", Date, nullable=False),
    Column("due_date", Date, nullable=False),
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


def add_missing_columns(connection: Connection, tables: list[Table]) -> list[str]:
    """Add to existing tables the nullable columns their definition has and the store lacks (a store made
    by an earlier version); the columns added, as 'table.column'."""
    present = inspect(connection)
    added = []
    for table in tables:
        if not present.has_table(table.name):
            continue
        stored = {column["name"] for column in present.get_columns(table.name)}
        for column in table.columns:
            if column.name in stored or not column.nullable or column.primary_key:
                continue
            kind = column.type.compile(dialect=connection.dialect)
            connection.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}')
            added.append(f"{table.name}.{column.name}")
    return added


@event.listens_for(metadata, "after_create")
def _migrate(target: MetaData, connection: Connection, **_: Any) -> None:
    """After every `create_all` (each time a store is opened): add the columns this module's tables gained."""
    add_missing_columns(connection, [users, feedback, audit_log, assignments])
