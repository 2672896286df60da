"""`fengqiao dashboard`: the analysts' dashboard started as a Streamlit process on the current settings."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli_base import app, console, settings_of

DASHBOARD = "Dashboard (analysts, mediators)"


# What the dashboard process must share with this one: the store, the registry, the question the model
# answers, the language, the login throttle, the idle timeout and the dormant cases.
DASHBOARD_SETTINGS = frozenset(
    {
        "home",
        "warehouse_url",
        "mlflow_tracking_uri",
        "language",
        "horizon_days",
        "escalation_events",
        "model_name",
        "experiment_name",
        "login_max_failures",
        "login_backoff_seconds",
        "session_idle_minutes",
        "dormant_days",
    }
)


def dashboard_command(port: int, address: str) -> list[str]:
    """The `streamlit run` command line for the dashboard app (found beside this package, not imported);
    errors reach the browser without their details (the app says what happened; the log has the rest)."""
    script = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--client.showErrorDetails",
        "none",
        "--client.disableDataExport",  # tables' own CSV download would write formulas as they are
        "true",
    ]


@app.command(rich_help_panel=DASHBOARD)
def dashboard(
    context: typer.Context,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    address: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 for the network).")
    ] = "localhost",
) -> None:
    """Start the analysts' dashboard (Streamlit) on the current settings; Ctrl-C stops it."""
    settings = settings_of(context)
    root = str(Path(__file__).resolve().parents[1])
    paths = [root, *filter(None, [os.environ.get("PYTHONPATH")])]
    environment = {
        **os.environ,
        **settings.environment(DASHBOARD_SETTINGS),
        "PYTHONPATH": os.pathsep.join(paths),
    }
    console.print(f"dashboard on http://{address}:{port} (store {settings.warehouse_url}); Ctrl-C stops")
    # This process becomes Streamlit, so signals (Ctrl-C, a service manager's SIGTERM) reach it directly.
    command = dashboard_command(port, address)
    os.execve(command[0], command, environment)
