"""Beyond one machine, by configuration alone: the store on PostgreSQL, MLflow on a tracking server
backed by PostgreSQL (artifacts through the server), and the schedules deployed to a Prefect server's
process work pool, run by two workers started with `prefect worker start`.

Skipped, saying why, only where no PostgreSQL test server runs (`.ci/postgres.sh` starts one).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from cities.demo import SimulationConfig, simulate_city, write_city
from contracts.settings import Settings
from tests.builders import POSTGRES_URL, empty_database, empty_postgres

CONFIG = SimulationConfig(seed=3, n_cases=500, days=200, messiness=0.0)
END = CONFIG.start + timedelta(days=CONFIG.days)  # the day after the exports end
KEY = "servers-test-key-0123456789abcdef"
POOL = "fengqiao-test-pool"
WORKERS = ("fengqiao-worker-a", "fengqiao-worker-b")
NEVER = "0 3 29 2 *"  # the deployments' schedules stay out of the way: only the runs started here run
STARTUP_TIMEOUT = 120
RUN_TIMEOUT = 300


def _mlflow_database_url() -> str:
    """The MLflow server's own database, beside the warehouse's (same server, another database)."""
    from sqlalchemy.engine import make_url

    default = make_url(POSTGRES_URL).set(database="fengqiao_mlflow_test")
    return os.environ.get("FENGQIAO_TEST_MLFLOW_POSTGRES_URL", default.render_as_string(hide_password=False))


def _password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).password or ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _log_tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return f"--- {path.name}\n" + "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def _process(command: list[str], log: Path, environment: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """A process in its own session, logging to a file; stopped at the end with every descendant
    (flow runs start their own sessions), whatever happened."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=environment, start_new_session=True
        )
    try:
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        import psutil

        descendants = psutil.Process(process.pid).children(recursive=True)
    except Exception:  # psutil missing or the process already gone: its group is what is left
        descendants = []
    for signum, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)
        for child in descendants:
            with contextlib.suppress(Exception):  # already gone
                child.send_signal(signum)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        if not any(child.is_running() for child in descendants):
            return


def _wait_until(ready: Any, what: str, processes: dict[Path, subprocess.Popen[bytes]]) -> None:
    """Poll `ready()` until true; fail with the logs when a process exits or time runs out."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not ready():
        for log, process in processes.items():
            if process.poll() is not None:
                pytest.fail(f"{what}: {log.stem} exited with {process.returncode}\n{_log_tail(log)}")
        if time.monotonic() > deadline:
            logs = "\n".join(_log_tail(log) for log in processes)
            pytest.fail(f"{what}: not ready after {STARTUP_TIMEOUT} s\n{logs}")
        time.sleep(0.5)


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _online_workers() -> set[str]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        found = client.read_workers_for_work_pool(POOL)
    return {worker.name for worker in found if worker.status == "ONLINE"}


@dataclass(frozen=True)
class Servers:
    settings: Settings
    mlflow_artifacts: Path
    logs: list[Path]


@pytest.fixture(scope="module")
def servers(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Everything up, started side by side and stopped at the end whatever happens:

    - `mlflow server` on its own PostgreSQL database, serving artifacts from a folder;
    - the schedules deployed (`deploy_to_pool`) to a process work pool of the session's Prefect server,
      with settings pointing at the PostgreSQL store and the MLflow server;
    - two `prefect worker start --pool POOL --limit 1` processes, whose environment carries what the
      deployment does not: the pseudonymisation key and the database password;
    - a small city ingested into the store, and a first champion trained through the MLflow server.
    """
    from prefect.settings import get_current_settings

    from pipelines.deploy import deploy_to_pool
    from pipelines.ingest_flow import ingest_flow
    from pipelines.train_flow import train_flow

    warehouse_url = empty_postgres()  # skips, saying why, where no PostgreSQL runs
    mlflow_database = empty_database(_mlflow_database_url(), "PostgreSQL database for the MLflow server")
    folder = tmp_path_factory.mktemp("servers")
    port = _free_port()
    mlflow_url = f"http://127.0.0.1:{port}"
    mlflow_command = [
        *(sys.executable, "-m", "mlflow", "server"),
        *("--backend-store-uri", mlflow_database),
        *("--artifacts-destination", str(folder / "mlflow-artifacts")),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
    ]
    # Job execution serves MLflow's GenAI features; Fengqiao needs none, so it is off (fewer processes).
    mlflow_environment = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    settings = Settings(
        home=folder / "home",
        warehouse_url=warehouse_url,
        mlflow_tracking_uri=mlflow_url,
        pseudonym_key=KEY,
        candidates=("logistic_foundation",),
        daily_cron=NEVER,
        retrain_cron=NEVER,
    )
    worker_environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FENGQIAO_")},
        "PREFECT_API_URL": str(get_current_settings().api.url),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "FENGQIAO_PSEUDONYM_KEY": KEY,
        "PGPASSWORD": _password(warehouse_url),
    }
    with contextlib.ExitStack() as stack:
        processes = {
            folder / "mlflow-server.log": stack.enter_context(
                _process(mlflow_command, folder / "mlflow-server.log", mlflow_environment)
            )
        }
        done = deploy_to_pool(settings, POOL)  # creates the pool the workers poll
        assert done.names == ("daily/daily", "train/weekly-retrain")
        assert done.passwords_removed == ("FENGQIAO_WAREHOUSE_URL",)
        for name in WORKERS:
            command = [
                *(sys.executable, "-m", "prefect", "worker", "start"),
                *("--pool", POOL, "--type", "process", "--name", name, "--limit", "1"),
            ]
            log = folder / f"{name}.log"
            processes[log] = stack.enter_context(_process(command, log, worker_environment))
        files = write_city(simulate_city(CONFIG), folder / "exports")
        ingest_flow([files[kind] for kind in ("cases", "case_events", "hotline")], settings)
        _wait_until(lambda: _healthy(mlflow_url), "mlflow server", processes)
        train_flow(END - timedelta(days=7), settings)  # the first champion, through the tracking server
        _wait_until(lambda: _online_workers() >= set(WORKERS), "workers", processes)
        yield Servers(settings, folder / "mlflow-artifacts", list(processes))


def _start(deployment: str, as_of: date, **parameters: Any) -> UUID:
    from prefect.deployments import run_deployment

    return run_deployment(deployment, parameters={"as_of": as_of.isoformat(), **parameters}, timeout=0).id


def _finished(ids: list[UUID], logs: list[Path]) -> list[Any]:
    """The flow runs once all are final; a failure with the logs if they take too long."""
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + RUN_TIMEOUT
    with get_client(sync_client=True) as client:
        while True:
            runs = [client.read_flow_run(run_id) for run_id in ids]
            if all(run.state is not None and run.state.is_final() for run in runs):
                return runs
            if time.monotonic() > deadline:
                states = {run.name: run.state_name for run in runs}
                tails = "\n".join(_log_tail(log) for log in logs)
                pytest.fail(f"flow runs not finished after {RUN_TIMEOUT} s: {states}\n{tails}")
            time.sleep(1)


@pytest.mark.slow
@pytest.mark.postgres
def test_two_workers_retrain_and_publish_through_the_servers(servers: Servers) -> None:
    from mlflow import MlflowClient
    from prefect.client.orchestration import get_client

    from warehouse.lists import read_list
    from warehouse.store import Warehouse

    settings = servers.settings
    first_day, second_day = END - timedelta(days=1), END
    # A retraining and a daily run at once: each worker takes one run at a time, so both work.
    # The lists must go out whatever the health checks say of this small city (they are still reported).
    together = _finished(
        [_start("train/weekly-retrain", END), _start("daily/daily", first_day, override=True)], servers.logs
    )
    (second,) = _finished([_start("daily/daily", second_day, override=True)], servers.logs)
    runs = [*together, second]
    logs = "\n".join(_log_tail(log) for log in servers.logs)
    assert [run.state_name for run in runs] == ["Completed"] * 3, logs

    assert {run.work_pool_name for run in runs} == {POOL}
    ran_by = [run.labels.get("prefect.worker.name") for run in runs]
    assert set(ran_by) == set(WORKERS) and ran_by[0] != ran_by[1], ran_by

    for day in (first_day, second_day):
        assert (settings.lists_dir / f"{day.isoformat()}.csv").is_file()
        manifest = json.loads((settings.lists_dir / f"{day.isoformat()}.manifest.json").read_text("utf-8"))
        assert manifest["model_version"] in {f"{settings.model_name}/v1", f"{settings.model_name}/v2"}
        assert not read_list(Warehouse(settings.warehouse_url), day).empty
    assert settings.warehouse_url.startswith("postgresql")
    assert not (settings.home / "warehouse.db").exists()

    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri)
    versions = client.search_model_versions(f"name = '{settings.model_name}'")
    assert sorted(v.version for v in versions) == ["1", "2"]  # the first champion and the retrained one
    champion = client.get_model_version_by_alias(settings.model_name, "champion")
    assert champion.version in {"1", "2"}
    assert any(servers.mlflow_artifacts.rglob("*.skops"))  # the models went through the server
    assert not (settings.home / "mlartifacts").exists() and not (settings.home / "mlflow.db").exists()

    with get_client(sync_client=True) as prefect:
        environment = prefect.read_deployment_by_name("daily/daily").job_variables["env"]
    assert environment["FENGQIAO_MLFLOW_TRACKING_URI"] == settings.mlflow_tracking_uri
    assert "FENGQIAO_PSEUDONYM_KEY" not in environment
    assert _password(environment["FENGQIAO_WAREHOUSE_URL"]) == ""


def test_deployments_carry_every_setting_but_the_key_and_database_passwords() -> None:
    from pipelines.deploy import deployment_environment

    settings = Settings(
        home=Path("/srv/fengqiao"),
        warehouse_url="postgresql+psycopg://fengqiao:s3cret@db:5432/fengqiao",
        mlflow_tracking_uri="http://mlflow:5000",
        pseudonym_key="the-key",
        horizon_days=60,
    )
    environment, removed = deployment_environment(settings)
    assert removed == ("FENGQIAO_WAREHOUSE_URL",)
    assert environment["FENGQIAO_WAREHOUSE_URL"] == "postgresql+psycopg://fengqiao@db:5432/fengqiao"
    assert environment["FENGQIAO_MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert environment["FENGQIAO_HOME"] == "/srv/fengqiao" and environment["FENGQIAO_HORIZON_DAYS"] == "60"
    assert "FENGQIAO_PSEUDONYM_KEY" not in environment
    assert not any("s3cret" in value or "the-key" in value for value in environment.values())


def test_workers_fetch_the_code_from_this_checkout_or_a_git_branch() -> None:
    from prefect.runner.storage import GitRepository

    from pipelines.deploy import REPOSITORY, code_source

    assert code_source() == str(REPOSITORY) and (REPOSITORY / "pipelines" / "daily_flow.py").is_file()
    fetched = code_source("https://git.example.org/fengqiao.git", "release")
    assert (
        isinstance(fetched, GitRepository)
        and fetched.to_pull_step()["prefect.deployments.steps.git_clone"]["branch"] == "release"
    )
    with pytest.raises(ValueError, match="--ref needs --source"):
        code_source(None, "release")
