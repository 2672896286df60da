"""Prefect's settings for the commands that run flows, given before Prefect is first imported, and Prefect's
temporary local server started in the background as such a command begins.

Without `PREFECT_API_URL`, a command that runs a flow needs Prefect's temporary local server (Prefect's own
`SubprocessASGIServer`, which `get_client` starts at the first flow and stops at exit). Started by Prefect,
it costs the whole start-up in series: the command imports Prefect's server code, then the server process
imports it again, migrates its database and answers. Started here, in a background thread as the command
begins, the server process starts while the command imports its own modules; the command waits for it
just before its first flow, and Prefect's `get_client` then finds that very server running. A start-up
that times out, or whose process dies, is stopped and tried again (`prefect_startup_attempts`); if every
attempt fails, the flow falls back to Prefect's own start. Prefect reads its settings once, when it is
imported, so they are put in the environment first. With `PREFECT_API_URL` (a lasting `prefect server
start`) nothing is started here and the timeout does not apply.

By default (setting `prefect_shared_server`) the flow commands of one Prefect home share one local server
instead (`pipelines.prefect_shared_server`): the first starts it in the background, the next find it
running, and it ends by itself `prefect_server_idle_seconds` after the last command using it. Only a command
that has not imported Prefect yet can use it (Prefect reads its API address once, at import).
docs/runbook.md says more.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from contracts.settings import Settings

if TYPE_CHECKING:
    from pipelines.prefect_shared_server import ServerRecord

STARTUP_TIMEOUT = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
ANALYTICS = "PREFECT_SERVER_ANALYTICS_ENABLED"
API_URL = "PREFECT_API_URL"
# Commands that load their code, then wait for the server (`wait_for_server`, through the command line's
# error handling) before their flows. `ingest` checks the key first and refuses at once, without a server,
# then starts it (`start_prefect`) while it imports its flow; `serve` and `deploy` let Prefect start its
# server itself (or need PREFECT_API_URL).
EARLY_START_COMMANDS = frozenset({"train", "score", "run-daily", "backfill", "rehearse", "ablation", "demo"})
EPHEMERAL_ENABLED = "PREFECT_SERVER_EPHEMERAL_ENABLED"

logger = logging.getLogger(__name__)
_starting: list[threading.Thread] = []
_failures: list[str] = []


def prefect_environment(settings: Settings) -> dict[str, str]:
    """Prefect variables a flow-running command needs: the temporary server's start-up timeout (setting
    `prefect_startup_timeout_seconds`) and no analytics sent from the server."""
    return {STARTUP_TIMEOUT: str(settings.prefect_startup_timeout_seconds), ANALYTICS: "false"}


def prepare_prefect(
    settings: Settings, environ: MutableMapping[str, str] = os.environ, command: str | None = None
) -> bool:
    """Put Prefect's variables in the environment (a Prefect variable the user set wins); for a command of
    `EARLY_START_COMMANDS`, use the shared local server (setting `prefect_shared_server`) or else start
    Prefect's temporary server in the background (setting `prefect_early_start`); whether the variables
    take effect in this process, which they do only if Prefect is not imported yet (child processes, such
    as the temporary server, always see them)."""
    for name, value in prefect_environment(settings).items():
        environ.setdefault(name, value)
    fresh = "prefect" not in sys.modules
    if command in EARLY_START_COMMANDS:
        start_prefect(settings, environ)
    return fresh


def start_prefect(settings: Settings, environ: MutableMapping[str, str] = os.environ) -> None:
    """Unless an API is named: use the shared local server (setting `prefect_shared_server`, and only while
    Prefect is not imported yet) or else start Prefect's temporary server in the background (setting
    `prefect_early_start`); `wait_for_server` waits for either."""
    if environ.get(API_URL):
        return
    if "prefect" not in sys.modules and shared_server_wanted(settings, environ):
        use_shared(settings, environ)
    elif settings.prefect_early_start:
        start_server(settings.prefect_startup_attempts)


def shared_server_wanted(settings: Settings, environ: MutableMapping[str, str]) -> bool:
    """Whether a command should use the shared server: it is on, no API is named and Prefect may start a
    local server."""
    ephemeral = environ.get(EPHEMERAL_ENABLED, "true").strip().lower() not in {"0", "false", "no", "off"}
    return settings.prefect_shared_server and ephemeral and not environ.get(API_URL)


def use_shared(settings: Settings, environ: MutableMapping[str, str]) -> threading.Thread:
    """Find or start the shared server (its address goes into `environ` at once) and wait for it to answer
    in a background thread, starting it again after a failed start-up (`prefect_startup_attempts`);
    `wait_for_server` waits and raises if every attempt failed."""
    from pipelines.prefect_shared_server import use_shared_server

    record, started = use_shared_server(settings.prefect_server_idle_seconds, environ)
    if started:
        print(
            f"Prefect: starting the shared local server {record.url}, for this command and the next; it ends "
            f"{settings.prefect_server_idle_seconds} s after its last use (FENGQIAO_PREFECT_SHARED_SERVER)",
            file=sys.stderr,
        )
    thread = threading.Thread(
        target=_await_shared, args=(record, settings, environ), name="prefect-shared-server", daemon=True
    )
    thread.start()
    _starting.append(thread)
    return thread


def _await_shared(record: ServerRecord, settings: Settings, environ: MutableMapping[str, str]) -> None:
    """Wait for the shared server to answer; restart it on the same address after a failed start-up."""
    from pipelines.prefect_shared_server import restart, wait_until_up

    for attempt in range(1, settings.prefect_startup_attempts + 1):
        try:
            wait_until_up(record, settings.prefect_startup_timeout_seconds, environ)
            return
        except RuntimeError as error:
            logger.warning("The shared Prefect server did not start (attempt %d): %s", attempt, error)
            if attempt == settings.prefect_startup_attempts:
                _failures.append(str(error))
                return
            record = restart(record, settings.prefect_server_idle_seconds, environ)


@contextmanager
def without_unasked_heartbeats() -> Iterator[None]:
    """Flows run in this process within the block send no flow-run heartbeats unless the user asked for
    them (`PREFECT_FLOWS_HEARTBEAT_FREQUENCY`, in the environment or a Prefect profile). Prefect's heartbeat
    thread sleeps a second at a time and each flow waits for it at its end (0-1 s a command); heartbeats
    only feed an automation that marks silent runs as crashed. Nothing is done where Prefect is not
    imported (a command that runs no flow never imports it)."""
    if "prefect" not in sys.modules:
        yield
        return
    from prefect.settings import get_current_settings, temporary_settings

    if "heartbeat_frequency" in get_current_settings().flows.model_fields_set:
        yield
        return
    with temporary_settings(updates={"flows.heartbeat_frequency": None}):
        yield


def start_server(attempts: int) -> threading.Thread:
    """Start Prefect's temporary server in a background thread (unless Prefect's settings name an API or
    forbid the temporary server); `wait_for_server` waits for it."""
    thread = threading.Thread(
        target=_start_server, args=(attempts,), name="prefect-temporary-server", daemon=True
    )
    thread.start()
    _starting.append(thread)
    return thread


def wait_for_server() -> None:
    """Wait until the server started in the background is up; at once if none was started. After failed
    attempts, the temporary server is left to Prefect's own start; the shared one raises RuntimeError (this
    command's Prefect already has its address)."""
    while _starting:
        _starting.pop().join()
    if _failures:
        raise RuntimeError(_failures.pop())


def _start_server(attempts: int) -> None:
    """Prefect's temporary server started, and tried again from scratch after a failed start-up."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return
    from prefect.server.api.server import SubprocessASGIServer

    from pipelines.prefect_database import place_kept_database

    place_kept_database()  # Prefect's server then finds its new database migrated
    for attempt in range(1, attempts + 1):
        server = SubprocessASGIServer()  # the instance Prefect's get_client will use
        try:
            server.start()
            return
        except Exception as error:  # Prefect raises RuntimeError or an HTTP error; any: try again
            logger.warning("Prefect's temporary server did not start (attempt %d): %s", attempt, error)
            server.stop()  # its process, if any, ends; the next attempt starts a new server
