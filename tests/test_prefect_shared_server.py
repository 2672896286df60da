"""The local Prefect server the flow commands share: when a command uses it, how it is found or started,
when it ends by itself, and two commands served by one server that is gone after them."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.settings import Settings
from pipelines import prefect_shared_server as shared
from pipelines.prefect_runtime import shared_server_wanted
from pipelines.prefect_server_process import IdleWatch, server_defaults


@pytest.fixture
def sleepers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes standing in for servers, killed after the test."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


@pytest.fixture
def launches(monkeypatch: pytest.MonkeyPatch, sleepers: list[subprocess.Popen[bytes]]) -> list[int]:
    """The ports servers were launched on; each launch starts a sleeping process instead of a server."""
    ports: list[int] = []

    def launch(folder: Path, port: int, idle_seconds: int, environ: object) -> int:
        ports.append(port)
        sleepers.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]))
        return sleepers[-1].pid

    monkeypatch.setattr(shared, "launch", launch)
    return ports


@pytest.mark.parametrize(
    ("settings", "environ", "wanted"),
    [
        ({}, {}, True),
        ({"prefect_shared_server": False}, {}, False),
        ({}, {"PREFECT_API_URL": "http://127.0.0.1:4200/api"}, False),
        ({}, {"PREFECT_SERVER_EPHEMERAL_ENABLED": "false"}, False),
        ({}, {"PREFECT_SERVER_EPHEMERAL_ENABLED": "true"}, True),
    ],
)
def test_when_a_command_uses_the_shared_server(settings: dict, environ: dict, wanted: bool) -> None:
    assert shared_server_wanted(Settings(**settings), environ) is wanted


def test_the_first_command_starts_it_and_the_next_find_it(tmp_path: Path, launches: list[int]) -> None:
    environ = {"PREFECT_HOME": str(tmp_path)}
    first, started = shared.use_shared_server(60, environ)
    assert started and environ["PREFECT_API_URL"] == first.url == f"http://127.0.0.1:{launches[0]}/api"
    second_environ = {"PREFECT_HOME": str(tmp_path)}
    second, started_again = shared.use_shared_server(60, second_environ)
    assert (second, started_again) == (first, False)
    assert second_environ["PREFECT_API_URL"] == first.url
    assert len(launches) == 1
    assert [p.name for p in (tmp_path / "fengqiao-server" / "clients").iterdir()] == [str(os.getpid())]


def test_an_ended_server_or_another_prefect_version_is_started_anew(
    tmp_path: Path, launches: list[int], sleepers: list[subprocess.Popen[bytes]]
) -> None:
    environ = {"PREFECT_HOME": str(tmp_path)}
    folder = tmp_path / "fengqiao-server"
    first, _ = shared.use_shared_server(60, environ)
    sleepers[0].kill()
    sleepers[0].wait()
    second, started = shared.use_shared_server(60, environ)
    assert started and second.pid != first.pid
    shared.write_record(folder, shared.ServerRecord(url=second.url, pid=second.pid, prefect="0.0.1"))
    third, started = shared.use_shared_server(60, environ)
    assert started and third.pid not in {first.pid, second.pid} and len(launches) == 3


def test_the_server_ends_only_when_idle_and_no_command_is_alive(
    tmp_path: Path, sleepers: list[subprocess.Popen[bytes]]
) -> None:
    folder = tmp_path / "fengqiao-server"
    folder.mkdir()
    shared.write_record(
        folder, shared.ServerRecord(url="http://127.0.0.1:1/api", pid=os.getpid(), prefect="x")
    )
    watch = IdleWatch(folder, idle_seconds=3600)
    assert not watch.should_end()  # called just now
    watch.idle_seconds = 0
    sleepers.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]))
    shared.lease(folder, sleepers[0].pid)
    assert not watch.should_end()  # a command using it is alive
    sleepers[0].kill()
    sleepers[0].wait()
    assert watch.should_end()
    assert not (folder / "server.json").exists()
    assert list((folder / "clients").iterdir()) == []  # the ended command's lease is gone


def test_a_newer_record_is_left_to_its_server(tmp_path: Path) -> None:
    """A server that ends after another took its place does not remove the other's record."""
    folder = tmp_path / "fengqiao-server"
    folder.mkdir()
    other = shared.ServerRecord(url="http://127.0.0.1:1/api", pid=os.getpid() + 1, prefect="x")
    shared.write_record(folder, other)
    assert IdleWatch(folder, idle_seconds=0).should_end()
    assert shared.read_record(folder) == other


def test_a_server_that_ends_or_never_answers_is_a_clear_error(
    tmp_path: Path, sleepers: list[subprocess.Popen[bytes]]
) -> None:
    environ = {"PREFECT_HOME": str(tmp_path)}
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    record = shared.ServerRecord(url=f"http://127.0.0.1:{shared.free_port()}/api", pid=ended.pid, prefect="x")
    with pytest.raises(RuntimeError, match=r"did not start: its process ended \(its log: .*server\.log\)"):
        shared.wait_until_up(record, 30, environ)
    sleepers.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]))
    silent = shared.ServerRecord(url=record.url, pid=sleepers[0].pid, prefect="x")
    with pytest.raises(RuntimeError, match="it did not answer within 1 s"):
        shared.wait_until_up(silent, 1, environ)


SHARED_LINE = re.compile(r"starting the shared local server http://127\.0\.0\.1:(\d+)/api")


@pytest.mark.slow
def test_two_commands_share_one_server_that_ends_after_them(tmp_path: Path) -> None:
    """Two `score` commands in a fresh home (each stops for want of a model): the first starts the shared
    server, the second uses it, neither starts Prefect's temporary server, and the server ends by itself."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FENGQIAO_", "PREFECT_"))}
    env = {
        **base,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "FENGQIAO_PREFECT_SERVER_IDLE_SECONDS": "15",  # more than the gap between the commands
    }
    command = [sys.executable, "-m", "pipelines.cli", "--home", str(tmp_path / "home"), "score"]
    outputs = []
    for day in ("2025-03-01", "2025-03-02"):
        done = subprocess.run(
            [*command, "--as-of", day], capture_output=True, text=True, env=env, timeout=900
        )
        outputs.append(done.stdout + done.stderr)
        assert done.returncode == 1 and "no champion model" in done.stdout, outputs[-1]
        assert "Beginning flow run" in outputs[-1] and "temporary server" not in outputs[-1]
    ports = SHARED_LINE.findall(outputs[0])
    assert len(ports) == 1 and SHARED_LINE.findall(outputs[1]) == [], outputs
    record = shared.read_record(tmp_path / "prefect" / "fengqiao-server")
    assert record is not None and record.url == f"http://127.0.0.1:{ports[0]}/api"
    deadline = time.monotonic() + 120
    while shared.alive(record.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not shared.alive(record.pid)
    assert shared.read_record(tmp_path / "prefect" / "fengqiao-server") is None
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", int(ports[0]))) != 0


@pytest.mark.parametrize(
    ("command", "used"), [("score", True), ("train", True), ("ingest", False), ("serve", False)]
)
def test_a_fresh_flow_command_uses_the_shared_server(
    monkeypatch: pytest.MonkeyPatch, command: str, used: bool
) -> None:
    """Only before Prefect is imported (it reads its API address once) and instead of the early start."""
    from pipelines import prefect_runtime

    seen: list[str] = []

    def use_shared(settings: Settings, environ: dict[str, str]) -> None:
        seen.append("shared")
        environ["PREFECT_API_URL"] = "http://127.0.0.1:9/api"

    monkeypatch.setattr(prefect_runtime, "use_shared", use_shared)
    monkeypatch.setattr(prefect_runtime, "start_server", lambda attempts: seen.append("temporary"))
    monkeypatch.delitem(sys.modules, "prefect", raising=False)
    prefect_runtime.prepare_prefect(Settings(), environ={}, command=command)
    assert seen == (["shared"] if used else [])


def test_the_server_runs_as_the_temporary_one_without_the_block_catalogue_unless_told() -> None:
    environ: dict[str, str] = {}
    server_defaults(environ)
    assert environ == {"PREFECT__SERVER_EPHEMERAL": "1", "PREFECT_API_BLOCKS_REGISTER_ON_START": "false"}
    chosen = {"PREFECT_API_BLOCKS_REGISTER_ON_START": "true"}
    server_defaults(chosen)
    assert chosen["PREFECT_API_BLOCKS_REGISTER_ON_START"] == "true"
