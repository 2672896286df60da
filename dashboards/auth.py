"""Who is looking: logging in against the store's accounts (throttled, audited) and keeping the user in the
session; where the client connects from."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from dashboards import audit
from dashboards.source import DataSource
from dashboards.throttle import Policy, login_wait
from warehouse.accounts import Account as Viewer
from warehouse.accounts import authenticate, find_account
from warehouse.dashboard_tables import users
from warehouse.store import Warehouse

SESSION_KEY = "viewer_name"


@dataclass(frozen=True)
class Attempt:
    """The outcome of a login attempt: the account on success; otherwise how long to wait (0: may retry)."""

    viewer: Viewer | None
    wait_seconds: float = 0.0


def _valid_address(text: str) -> str | None:
    """The text as an IP address, or None when it is not one (headers are free text)."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def address_of(remote_ip: str | None, headers: Any) -> str:
    """The client's address: the connection's, or, when the connection is from this machine (a reverse
    proxy), the address the proxy appended last to X-Forwarded-For; else "unknown". Earlier X-Forwarded-For
    entries and X-Real-IP are the client's own claims and are not believed."""
    if remote_ip:
        return _valid_address(remote_ip) or audit.UNKNOWN_ADDRESS
    forwarded = str(headers.get("X-Forwarded-For") or "").split(",")[-1]
    return _valid_address(forwarded) or audit.UNKNOWN_ADDRESS


def client_address() -> str:
    """The address of the session's client, from Streamlit's request context ("unknown" outside one)."""
    import streamlit as st

    try:
        return address_of(st.context.ip_address, st.context.headers)
    except Exception:  # no request context (a bare script run or a test harness): nothing to tell
        return audit.UNKNOWN_ADDRESS


def login(
    warehouse: Warehouse, policy: Policy, name: str, password: str, address: str, now: datetime
) -> Attempt:
    """Check a name and password unless the account or the address must wait; every outcome is audited.

    A refused attempt does not check the password and does not count as a failure (so waiting is enough);
    after a failure, the wait it brings about is returned. An empty name or password is no attempt.
    The check and the record are one transaction, so parallel sessions cannot slip past the count.
    OperationalError when the store is busy.
    """
    name = name.strip()
    if not name or not password:
        return Attempt(None)
    with warehouse.transaction() as connection:
        known = find_account(connection, name)
        user_name = known.name if known is not None else None
        key = audit.login_key(name, known is not None)
        wait = login_wait(connection, key, address, now, policy)
        if wait > 0:
            audit.record(connection, audit.LOGIN_REFUSED, now, address, user_name, key)
            return Attempt(None, wait)
        viewer = authenticate(connection, name, password)
        if viewer is not None:
            audit.record(connection, audit.LOGIN_SUCCESS, now, address, user_name, key)
            return Attempt(viewer)
        audit.record(connection, audit.LOGIN_FAILURE, now, address, user_name, key)
        return Attempt(None, login_wait(connection, key, address, now, policy))


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
