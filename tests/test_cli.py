"""The public command line: simulate, ingest, train and score on a tiny city, as a user would run them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from contracts.settings import Settings
from pipelines import day_list, score_helper
from pipelines.cli import app
from pipelines.runtime import open_warehouse
from warehouse.tables import ingest_runs

runner = CliRunner()


LONG_KEY = "cli-test-key-0123456789abcdef0123456789"  # keys shorter than 32 bytes are refused


def _not_built_here(*_: object) -> pd.DataFrame:
    raise AssertionError("the grievances were built by the command's process")


@pytest.mark.slow
def test_simulate_ingest_train_score(
    prefect_harness: None, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FENGQIAO_PSEUDONYM_KEY", LONG_KEY)
    home = ["--home", str(settings.home)]
    data = tmp_path / "city"
    result = runner.invoke(
        app, ["simulate", "--out", str(data), "--seed", "5", "--cases", "500", "--days", "200"]
    )
    assert result.exit_code == 0, result.output
    assert (data / "cases.csv").exists()

    result = runner.invoke(
        app,
        [*home, "ingest", str(data / "cases.csv"), str(data / "case_events.csv"), str(data / "hotline.csv")],
    )
    assert result.exit_code == 0, result.output
    assert "Ingest run" in result.output
    runs = open_warehouse(settings).read_table(ingest_runs)
    assert sorted(runs["source_file"]) == ["case_events.csv", "cases.csv", "hotline.csv"]
    assert (runs["read"] == runs["accepted"]).all()

    result = runner.invoke(app, [*home, "train", "--as-of", "2025-07-20"])
    assert result.exit_code == 0, result.output
    assert "Registered fengqiao-escalation/v1: promoted as the first champion" in " ".join(
        result.output.split()
    )
    assert "Model grid" in result.output

    result = runner.invoke(app, [*home, "models"])
    assert result.exit_code == 0, result.output
    assert "champion" in result.output
    result = runner.invoke(app, [*home, "rollback"])
    assert result.exit_code == 1
    assert "no earlier champion" in result.output
    result = runner.invoke(app, [*home, "promote", "v7"])
    assert result.exit_code == 1
    assert "has no version 7" in " ".join(result.output.split())

    # The day's grievances are built by a helper process from the command's start: this one never builds them.
    monkeypatch.setattr(score_helper, "_cores", lambda: 2)
    monkeypatch.setattr(day_list, "day_grievances", _not_built_here)
    result = runner.invoke(app, [*home, "--language", "en", "score", "--as-of", "2025-07-20", "--top", "5"])
    assert result.exit_code == 0, result.output
    assert (settings.home / "lists" / "2025-07-20.grievances.csv").exists()
    listed = pd.read_csv(settings.home / "lists" / "2025-07-20.csv", encoding="utf-8-sig")
    assert listed["as_of"].unique().tolist() == ["2025-07-20"]
    assert listed["model_version"].unique().tolist() == ["fengqiao-escalation/v1"]
    assert not listed["reasons"].str.contains("近").any()


@pytest.mark.slow
def test_ingest_without_a_key_is_refused(
    prefect_harness: None, monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path
) -> None:
    monkeypatch.delenv("FENGQIAO_PSEUDONYM_KEY")
    file = tmp_path / "hotline.csv"
    file.write_text("call_id,received_at,district\nh1,2025-01-01,东湖区\n", encoding="utf-8")
    result = runner.invoke(app, ["--home", str(settings.home), "ingest", str(file)])
    assert result.exit_code == 1
    assert "error: no pseudonymisation key: set FENGQIAO_PSEUDONYM_KEY" in " ".join(result.output.split())


@pytest.mark.slow
def test_score_without_a_model_says_what_to_do(prefect_harness: None, settings: Settings) -> None:
    result = runner.invoke(app, ["--home", str(settings.home), "score", "--as-of", "2025-07-20"])
    assert result.exit_code == 1
    assert "no champion model 'fengqiao-escalation' yet: run `fengqiao train --as-of DATE` first" in " ".join(
        result.output.split()
    )


def test_bad_date_option_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FENGQIAO_PREFECT_EARLY_START", "false")  # no Prefect server for a refused date
    result = runner.invoke(app, ["train", "--as-of", "20250720"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output
