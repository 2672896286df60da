"""The dashboard's tables: analysts' accounts and their append-only feedback on listed cases."""

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

for _operation in ("UPDATE", "DELETE"):
    event.listen(
        feedback,
        "after_create",
        DDL(
            f"CREATE TRIGGER IF NOT EXISTS feedback_no_{_operation.lower()} BEFORE {_operation} ON feedback "
            "BEGIN SELECT RAISE(ABORT, 'feedback is append-only'); END"
        ).execute_if(dialect="sqlite"),
    )
