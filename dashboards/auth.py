"""Who is looking: logging in against the store's accounts (throttled, audited), keeping the user in the
session and, across reloads and tabs, in a signed session cookie; where the client connects from."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from contracts.settings import Settings
from dashboards import audit
from dashboards.source import DataSource
from dashboards.throttle import Policy, login_wait
from warehouse.accounts import Account as Viewer
from warehouse.accounts import authenticate, find_account
from warehouse.dashboard_tables import audit_log, users
from warehouse.store import Warehouse

SESSION_KEY = "viewer_name"
# The signed session cookie: who logged in and when, refreshed while the user is active; it expires after the
# idle timeout, and a logout voids every session of that login.
SESSION_COOKIE = "fengqiao_session"
SESSION_KEY_FILE = "dashboard-session.key"  # under the home folder, beside the demo's pseudonymisation key
_TOKEN_SALT = "fengqiao-dashboard-session"
_PRIVATE_FILE = 0o600


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


@dataclass(frozen=True)
class Session:
    """A logged-in session as its cookie carries it: the account's name and when it logged in."""

    name: str
    since: datetime


def session_key(settings: Settings) -> bytes:
    """The secret that signs session cookies: a random key kept in a file only its owner can read under the
    home folder (made on first use, as the demo's pseudonymisation key is), so every dashboard process on the
    home shares it and a restart keeps sessions. Deleting the file logs everyone out. OSError when the home
    cannot hold it."""
    path = Path(settings.home) / SESSION_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another process made it first: read theirs
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_FILE)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < 32:
        raise OSError(f"the session key in {path} is too short: delete the file to make a new one")
    return key.encode()


def _serializer(key: bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(key, salt=_TOKEN_SALT)


def issue_token(key: bytes, session: Session) -> str:
    """A signed, time-stamped token for the session (URL-safe: cookie-safe too)."""
    return _serializer(key).dumps({"name": session.name, "since": session.since.isoformat()})


def read_token(key: bytes, token: str | None, max_age_seconds: int) -> Session | None:
    """The session of a token signed with the key and issued less than `max_age_seconds` ago; None for a
    missing, forged, altered, expired or malformed one."""
    if not token:
        return None
    try:
        payload = _serializer(key).loads(token, max_age=max_age_seconds)
        return Session(str(payload["name"]), datetime.fromisoformat(payload["since"]))
    except (BadSignature, KeyError, TypeError, ValueError, json.JSONDecodeError):
        return None


def logged_out_since(source: DataSource, name: str, since: datetime, unreadable: bool = True) -> bool:
    """Whether a session of the account that began at `since` is void: the account logged out at or after
    it, or was (re)created at or after it (a password is changed by removing and adding the account, and a
    name may pass to someone else), or no longer exists. A store that cannot be read gives `unreadable`
    (by default a logout: a busy store must not let a session back in)."""
    a = audit_log.c
    logout = select(func.max(a.at)).where(a.event == audit.LOGOUT, a.user_name == name)
    created = select(users.c.created_at).where(users.c.name == name)
    try:
        with source.engine.connect() as connection:
            last = connection.execute(logout).scalar()
            made = connection.execute(created).scalar()
    except OperationalError:
        return unreadable
    return made is None or made >= since or (last is not None and last >= since)


def cookie_script(name: str, value: str | None, max_age_seconds: int, secure: bool) -> str:
    """The script that sets a cookie of this site (or deletes it, for no value): strict same-site, for the
    whole app, kept `max_age_seconds`. Name and value are written as JSON strings, never as markup."""
    attributes = f"; Path=/; SameSite=Strict; Max-Age={max_age_seconds if value else 0}"
    attributes += "; Secure" if secure else ""
    text = json.dumps(f"{name}={value or ''}{attributes}").replace("</", "<\\/")
    return f"<script>document.cookie = {text};</script>"
