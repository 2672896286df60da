"""Failed-login throttling with back-off, per account and per client address, and the idle timeout.

The pure rules take the instants they judge (nothing here reads the clock); the state is the audit log's
failed logins, so every session and process of the dashboard sees the same counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select

from contracts.settings import Settings
from dashboards.audit import LOGIN_FAILURE, LOGIN_SUCCESS, UNKNOWN_ADDRESS
from warehouse.dashboard_tables import audit_log

# Failures older than this are forgotten, and no wait is longer: an hour of waiting always clears them.
WINDOW = timedelta(hours=1)
MAX_DOUBLINGS = 20  # 2**20 waits are far beyond the window already
# An address may be an office behind one NAT or a proxy: it is let through this many times as many
# failures as an account before waiting, so a few typos there do not lock everyone out.
ADDRESS_FAILURE_FACTOR = 4


@dataclass(frozen=True)
class Policy:
    """How many failures are let through, the first wait after them, and the window they count in."""

    max_failures: int
    backoff_seconds: float
    window: timedelta = WINDOW

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        """The policy of the settings (`login_max_failures`, `login_backoff_seconds`)."""
        return cls(settings.login_max_failures, float(settings.login_backoff_seconds))


def wait_seconds(failures: Iterable[datetime], now: datetime, policy: Policy) -> float:
    """Seconds still to wait before another attempt: none below `max_failures` failures in the window, then
    `backoff_seconds` after the latest failure, doubled for each failure beyond (at most the window)."""
    recent = sorted(at for at in failures if timedelta(0) <= now - at < policy.window)
    if len(recent) < policy.max_failures:
        return 0.0
    doublings = min(len(recent) - policy.max_failures, MAX_DOUBLINGS)
    wait = min(policy.backoff_seconds * 2**doublings, policy.window.total_seconds())
    return max(0.0, (recent[-1] + timedelta(seconds=wait) - now).total_seconds())


def idle_expired(last_active: datetime | None, now: datetime, idle_minutes: int) -> bool:
    """Whether a session last active at `last_active` has been idle `idle_minutes` or more."""
    return last_active is not None and now - last_active >= timedelta(minutes=idle_minutes)


def _failures(
    connection: Connection, condition: object, since: datetime, after: datetime | None
) -> list[datetime]:
    """Failed logins matching a condition from `since` on (and strictly after `after`, when given)."""
    a = audit_log.c
    query = select(a.at).where(a.event == LOGIN_FAILURE, a.at >= since, condition)
    if after is not None:
        query = query.where(a.at > after)
    return [row.at for row in connection.execute(query)]


def login_wait(connection: Connection, key: str, address: str, now: datetime, policy: Policy) -> float:
    """Seconds the account typed (its login key) or the address must still wait; 0 when it may try.

    An account's failures count since its last successful login; an address's do not reset on a success
    (a valid account of one's own would otherwise clear the way to guessing others') and let through
    ADDRESS_FAILURE_FACTOR times as many failures, since many people may share it. The address
    "unknown" (the local machine, e.g. a reverse proxy that sends no address) is shared by everyone
    behind it, so it is not throttled: one person could otherwise lock every user out.
    """
    a = audit_log.c
    start = now - policy.window
    success = connection.execute(
        select(func.max(a.at)).where(a.event == LOGIN_SUCCESS, a.login_key == key)
    ).scalar()
    waits = [wait_seconds(_failures(connection, a.login_key == key, start, success), now, policy)]
    if address != UNKNOWN_ADDRESS:
        shared = replace(policy, max_failures=policy.max_failures * ADDRESS_FAILURE_FACTOR)
        waits.append(wait_seconds(_failures(connection, a.address == address, start, None), now, shared))
    return max(waits)
