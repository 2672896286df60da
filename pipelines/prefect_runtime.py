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
start`) nothing is started here and the timeout does not apply. docs/runbook.md says more.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import MutableMapping

from contracts.settings import Settings

STARTUP_TIMEOUT = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
ANALYTICS = "PREFECT_SERVER_ANALYTICS_ENABLED"
API_URL = "PREFECT_API_URL"
# Commands that load their code, then wait for the server (`wait_for_server`, through the command line's
# error handling) before their flows. `ingest` checks the key first and refuses at once, without a server;
# `serve` and `deploy` let Prefect start its server itself (or need PREFECT_API_URL).
EARLY_START_COMMANDS = frozenset({"train", "score", "run-daily", "backfill", "rehearse", "ablation", "demo"})

logger = logging.getLogger(__name__)
_starting: list[threading.Thread] = []


def prefect_environment(settings: Settings) -> dict[str, str]:
    """Prefect variables a flow-running command needs: the temporary server's start-up timeout (setting
    `prefect_startup_timeout_seconds`) and no analytics sent from the server."""
    return {STARTUP_TIMEOUT: str(settings.prefect_startup_timeout_seconds), ANALYTICS: "false"}


def prepare_prefect(
    settings: Settings, environ: MutableMapping[str, str] = os.environ, command: str | None = None
) -> bool:
    """Put Prefect's variables in the environment (a Prefect variable the user set wins) and, for a
    command of `EARLY_START_COMMANDS`, start Prefect's temporary server in the background (setting
    `prefect_early_start`); whether the variables take effect in this process, which they do only if
    Prefect is not imported yet (child processes, such as the temporary server, always see them)."""
    for name, value in prefect_environment(settings).items():
        environ.setdefault(name, value)
    fresh = "prefect" not in sys.modules
    if command in EARLY_START_COMMANDS and settings.prefect_early_start and not environ.get(API_URL):
        start_server(settings.prefect_startup_attempts)
    return fresh


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
    """Wait until the temporary server started in the background is up (or every attempt has failed:
    the flow then falls back to Prefect's own start); at once if none was started."""
    while _starting:
        _starting.pop().join()


def _start_server(attempts: int) -> None:
    """Prefect's temporary server started, and tried again from scratch after a failed start-up."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return
    from prefect.server.api.server import SubprocessASGIServer

    for attempt in range(1, attempts + 1):
        server = SubprocessASGIServer()  # the instance Prefect's get_client will use
        try:
            server.start()
            return
        except Exception as error:  # Prefect raises RuntimeError or an HTTP error; any: try again
            logger.warning("Prefect's temporary server did not start (attempt %d): %s", attempt, error)
            server.stop()  # its process, if any, ends; the next attempt starts a new server
