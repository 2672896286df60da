"""The `fengqiao` command line: the app of `cli_base` with the commands of each audience registered on it,
in the order `fengqiao --help` shows them; what the flow commands print is in `cli_printing`."""

from __future__ import annotations

from importlib import import_module

from pipelines.cli_base import app

AUDIENCES = ("cli_flows", "cli_records", "cli_accounts", "cli_dashboard")
for _module in AUDIENCES:
    import_module(f"pipelines.{_module}")

__all__ = ["app"]

if __name__ == "__main__":
    app()
