"""Prefect's settings for the commands that run flows, given before Prefect is first imported.

Without `PREFECT_API_URL`, each command starts Prefect's temporary local server and waits for it at most
`PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS` (Prefect's default, 20, is exceeded on a loaded
machine, and the command fails). Prefect reads its settings once, when it is imported, so they are put in
the environment first. With `PREFECT_API_URL` (a long-running `prefect server start`), no temporary
server is started and the timeout does not apply.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

from contracts.settings import Settings

STARTUP_TIMEOUT = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
ANALYTICS = "PREFECT_SERVER_ANALYTICS_ENABLED"


def prefect_environment(settings: Settings) -> dict[str, str]:
    """Prefect variables a flow-running command needs: the temporary server's start-up timeout (setting
    `prefect_startup_timeout_seconds`) and no analytics sent from the server."""
    return {STARTUP_TIMEOUT: str(settings.prefect_startup_timeout_seconds), ANALYTICS: "false"}


def prepare_prefect(settings: Settings, environ: MutableMapping[str, str] = os.environ) -> bool:
    """Put Prefect's variables in the environment (a Prefect variable the user set wins); whether they
    take effect in this process, which they do only if Prefect is not imported yet (child processes,
    such as the temporary server, always see them)."""
    for name, value in prefect_environment(settings).items():
        environ.setdefault(name, value)
    return "prefect" not in sys.modules
