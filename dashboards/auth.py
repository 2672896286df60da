"""Who is looking: logging in against the store's accounts and keeping the user in the session."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from dashboards.source import DataSource
from warehouse.accounts import Account as Viewer
from warehouse.accounts import authenticate, find_account
from warehouse.dashboard_tables import users

SESSION_KEY = "viewer_name"


def login(source: DataSource, name: str, password: str) -> Viewer | None:
    """The account when the name and password match (None otherwise, also when there is no user table)."""
    if not name or not password:
        return None
    try:
        with source.engine.connect() as connection:
            return authenticate(connection, name.strip(), password)
    except OperationalError:
        return None


def current(source: DataSource, name: str | None) -> Viewer | None:
    """The logged-in account, read again on every page so that a removed or changed user takes effect."""
    if not name:
        return None
    try:
        with source.engine.connect() as connection:
            return find_account(connection, name)
    except OperationalError:
        return None


def has_users(source: DataSource) -> bool:
    """Whether any account exists (to tell an empty install from a wrong password)."""
    try:
        with source.engine.connect() as connection:
            return bool(connection.execute(select(func.count()).select_from(users)).scalar())
    except OperationalError:
        return False
