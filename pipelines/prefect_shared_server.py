"""One local Prefect server shared by the flow commands of a Prefect home: found, or started in the background
by the first command, and ended by itself once no command uses it (`pipelines.prefect_server_process`).

Without `PREFECT_API_URL`, every flow command would otherwise start Prefect's temporary server and stop it
at exit (10-25 s each on 2 cores). The shared server's address, process and Prefect version are kept in
`<PREFECT_HOME>/fengqiao-server/server.json`; a command that uses it leaves its process id in `clients/`,
so the server never ends while such a command is alive. A file lock orders the commands and the server's
own decision to end. docs/runbook.md says more.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, MutableMapping
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

import psutil
from filelock import FileLock

API_URL = "PREFECT_API_URL"
STATE_FOLDER = "fengqiao-server"
LOCK_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class ServerRecord:
    """What a command needs to find the shared server: its address, process and Prefect version."""

    url: str
    pid: int
    prefect: str


def state_dir(environ: Mapping[str, str]) -> Path:
    """The shared server's folder in the Prefect home (`PREFECT_HOME`, else `~/.prefect`)."""
    home = environ.get("PREFECT_HOME") or "~/.prefect"
    return Path(home).expanduser() / STATE_FOLDER


def lock_of(folder: Path) -> FileLock:
    """The lock that orders the commands and the server's decision to end."""
    return FileLock(folder / "lock", timeout=LOCK_TIMEOUT_SECONDS)


def read_record(folder: Path) -> ServerRecord | None:
    """The recorded server, if a record is there and readable."""
    try:
        return ServerRecord(**json.loads((folder / "server.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def write_record(folder: Path, record: ServerRecord) -> None:
    """Record the server (written whole, then renamed, so a reader never sees half of it)."""
    partial = folder / "server.json.partial"
    partial.write_text(json.dumps(asdict(record)), encoding="utf-8")
    partial.replace(folder / "server.json")


def lease(folder: Path, pid: int) -> None:
    """Mark process `pid` as using the server: the server does not end while it is alive."""
    clients = folder / "clients"
    clients.mkdir(parents=True, exist_ok=True)
    (clients / str(pid)).touch()


def live_clients(folder: Path) -> list[int]:
    """The processes using the server that are still alive; the leases of ended ones are removed."""
    alive_pids = []
    for path in sorted((folder / "clients").glob("*")):
        pid = int(path.name) if path.name.isdigit() else -1
        if pid > 0 and alive(pid):
            alive_pids.append(pid)
        else:
            path.unlink(missing_ok=True)
    return alive_pids


def alive(pid: int) -> bool:
    """Whether process `pid` runs (a process that ended but was not yet reaped does not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether a Prefect API answers its health check at `url`."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(folder: Path, port: int, idle_seconds: int, environ: Mapping[str, str]) -> int:
    """Start the server process on `port`, detached from this command (its own session), logging to
    `server.log` in `folder`; its process id."""
    env = {key: value for key, value in environ.items() if key != API_URL}
    env.update({"PREFECT_UI_ENABLED": "0", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"})
    command = [sys.executable, "-m", "pipelines.prefect_server_process", "--port", str(port)]
    command += ["--state", str(folder), "--idle-seconds", str(idle_seconds)]
    with open(folder / "server.log", "ab") as log:
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
        )
    return process.pid


def use_shared_server(idle_seconds: int, environ: MutableMapping[str, str]) -> tuple[ServerRecord, bool]:
    """The shared server of this Prefect home, started if none is alive (and whether it was), leased to
    this process and put in `environ` as `PREFECT_API_URL`; it may still be starting (`wait_until_up`)."""
    folder = state_dir(environ)
    folder.mkdir(parents=True, exist_ok=True)
    prefect = version("prefect")
    with lock_of(folder):
        record = read_record(folder)
        started = record is None or record.prefect != prefect or not alive(record.pid)
        if started:
            record = _start(folder, free_port(), idle_seconds, environ)
        lease(folder, os.getpid())
    environ[API_URL] = record.url
    return record, started


def restart(record: ServerRecord, idle_seconds: int, environ: Mapping[str, str]) -> ServerRecord:
    """The server of `record` stopped if it still runs and started again on the same address (the
    command's Prefect may already have read that address)."""
    folder = state_dir(environ)
    with lock_of(folder):
        if alive(record.pid):
            psutil.Process(record.pid).kill()
        return _start(folder, int(record.url.rsplit(":", 1)[1].split("/")[0]), idle_seconds, environ)


def _start(folder: Path, port: int, idle_seconds: int, environ: Mapping[str, str]) -> ServerRecord:
    pid = launch(folder, port, idle_seconds, environ)
    record = ServerRecord(url=f"http://127.0.0.1:{port}/api", pid=pid, prefect=version("prefect"))
    write_record(folder, record)
    return record


def wait_until_up(record: ServerRecord, timeout_seconds: float, environ: Mapping[str, str]) -> None:
    """Wait until the shared server answers; raise RuntimeError naming its log if it ends or does not
    answer within `timeout_seconds`."""
    deadline = time.monotonic() + timeout_seconds
    while not answers(record.url):
        if not alive(record.pid):
            raise RuntimeError(_failure(record, "its process ended", environ))
        if time.monotonic() > deadline:
            raise RuntimeError(_failure(record, f"it did not answer within {timeout_seconds:.0f} s", environ))
        time.sleep(0.2)


def _failure(record: ServerRecord, why: str, environ: Mapping[str, str]) -> str:
    log = state_dir(environ) / "server.log"
    return (
        f"the shared Prefect server at {record.url} did not start: {why} (its log: {log}). "
        "Run the command again, or set FENGQIAO_PREFECT_SHARED_SERVER=false to let each command start "
        "Prefect's temporary server"
    )
