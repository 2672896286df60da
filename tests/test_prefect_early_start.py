"""Prefect's temporary server, started in the background as a flow command begins: which commands start it,
how a failed start-up is tried again, and that the server a command started is gone when it exits."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import pytest

from contracts.settings import Settings
from pipelines import prefect_runtime
from pipelines.prefect_runtime import EARLY_START_COMMANDS, prepare_prefect, wait_for_server


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The attempts each early start was given, instead of starting a server."""
    seen: list[int] = []
    monkeypatch.setattr(prefect_runtime, "start_server", seen.append)
    return seen


@pytest.mark.parametrize("command", sorted(EARLY_START_COMMANDS))
def test_flow_commands_start_the_server_early(starts: list[int], command: str) -> None:
    prepare_prefect(
        Settings(prefect_startup_attempts=3, prefect_shared_server=False), environ={}, command=command
    )
    assert starts == [3]


@pytest.mark.parametrize("command", ["ingest", "serve", "deploy", "quarantine", None])
def test_other_commands_leave_the_start_to_prefect(starts: list[int], command: str | None) -> None:
    """`ingest` refuses a wrong key before any server; `serve` and `deploy` call Prefect themselves."""
    prepare_prefect(Settings(prefect_shared_server=False), environ={}, command=command)
    assert starts == []


def test_no_early_start_with_an_api_url_or_when_turned_off(starts: list[int]) -> None:
    prepare_prefect(Settings(), environ={"PREFECT_API_URL": "http://127.0.0.1:4200/api"}, command="score")
    prepare_prefect(
        Settings(prefect_early_start=False, prefect_shared_server=False), environ={}, command="score"
    )
    assert starts == []


def test_waiting_without_a_start_returns_at_once() -> None:
    wait_for_server()


class FlakyServer:
    """Stands in for Prefect's SubprocessASGIServer: the first `failures` start-ups time out."""

    failures: ClassVar[int] = 0
    events: ClassVar[list[str]] = []

    def start(self) -> None:
        FlakyServer.events.append("start")
        if FlakyServer.failures:
            FlakyServer.failures -= 1
            raise RuntimeError("Timed out while attempting to connect to ephemeral Prefect API server.")

    def stop(self) -> None:
        FlakyServer.events.append("stop")


@pytest.mark.parametrize(
    ("failures", "attempts", "events"),
    [
        (0, 2, ["start"]),
        (1, 2, ["start", "stop", "start"]),
        (2, 2, ["start", "stop", "start", "stop"]),  # then the flow falls back to Prefect's own start
        (2, 3, ["start", "stop", "start", "stop", "start"]),
    ],
)
def test_a_failed_start_is_stopped_and_tried_again(
    monkeypatch: pytest.MonkeyPatch, failures: int, attempts: int, events: list[str]
) -> None:
    from prefect.server.api import server
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_ENABLED,
        temporary_settings,
    )

    monkeypatch.setattr(server, "SubprocessASGIServer", FlakyServer)
    monkeypatch.setattr(FlakyServer, "failures", failures)
    monkeypatch.setattr(FlakyServer, "events", [])
    with temporary_settings({PREFECT_API_URL: None, PREFECT_SERVER_EPHEMERAL_ENABLED: True}):
        prefect_runtime._start_server(attempts)
    assert FlakyServer.events == events


def test_nothing_is_started_when_prefect_has_an_api(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.server.api import server
    from prefect.settings import PREFECT_API_URL, temporary_settings

    monkeypatch.setattr(server, "SubprocessASGIServer", FlakyServer)
    monkeypatch.setattr(FlakyServer, "events", [])
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:4200/api"}):
        prefect_runtime._start_server(2)
    assert FlakyServer.events == []


SERVER_LINE = re.compile(r"Starting temporary server on http://127\.0\.0\.1:(\d+)")


@pytest.mark.slow
def test_a_flow_command_uses_the_server_it_started_and_stops_it(tmp_path: Path) -> None:
    """`score` in a fresh home: one temporary server, the one started early, serves the flow (which stops
    for want of a model) and is gone once the command has exited."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FENGQIAO_", "PREFECT_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "--home", str(tmp_path), "score", "--as-of", "2025-03-01"],
        capture_output=True,
        text=True,
        env={
            **base,
            "PREFECT_HOME": str(tmp_path / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "FENGQIAO_PREFECT_SHARED_SERVER": "false",  # the temporary server is what is tested here
        },
        timeout=900,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "error:" in done.stdout, output
    ports = SERVER_LINE.findall(output)
    assert len(ports) == 1, output
    assert "Beginning flow run" in output
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", int(ports[0]))) != 0  # nothing listens there any more


@pytest.mark.parametrize("accepted", [True, False])
def test_ingest_starts_the_server_once_its_key_is_accepted_and_waits_for_it_before_its_flow(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, accepted: bool
) -> None:
    """The server starts while the flow's code is imported, never for a key the store refuses."""
    from typer.testing import CliRunner

    import pipelines.ingest_flow
    from pipelines import cli_flows
    from pipelines.cli import app
    from pipelines.runtime import open_warehouse, remember_key

    stored, given = "k" * 40, ("k" if accepted else "x") * 40
    with open_warehouse(Settings(home=tmp_path)).transaction() as connection:
        remember_key(connection, stored.encode())
    seen: list[str] = []

    def flow(*_: object, **__: object) -> None:
        seen.append("flow")
        raise ValueError("no flow in this test")

    monkeypatch.setattr(cli_flows, "start_prefect", lambda settings: seen.append("start"))

    @contextmanager
    def ready() -> Iterator[None]:
        seen.append("wait")
        yield

    monkeypatch.setattr(cli_flows, "ready_to_run", ready)
    monkeypatch.setattr(pipelines.ingest_flow, "ingest_flow", flow)
    monkeypatch.setenv("FENGQIAO_PSEUDONYM_KEY", given)
    result = CliRunner().invoke(app, ["--home", str(tmp_path), "ingest", str(tmp_path)])
    assert result.exit_code == 1
    if accepted:
        assert seen == ["start", "wait", "flow"], result.output
        assert "no flow in this test" in result.output
    else:
        assert seen == [], result.output
        assert "different key" in " ".join(result.output.split())
