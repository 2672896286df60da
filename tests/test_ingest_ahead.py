"""The ingest `fengqiao ingest` starts before its flow: committed only when the flow's task takes it, rolled
back when the command ends without it (a server that never starts), the same store either way."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from contracts.settings import Settings
from contracts.vocabulary import RecordKind
from ingest.mapping import MappingError
from pipelines import cli_flows
from pipelines.cli import app
from pipelines.ingest_ahead import IngestCall, ingest_ahead, ingest_with_progress, taken_ahead
from pipelines.runtime import open_warehouse
from tests.builders import TEST_KEY, call_row, case_row, text_frame
from warehouse import tables
from warehouse.day_window import stored_fingerprint

pytestmark = pytest.mark.usefixtures("settings")  # no FENGQIAO_* variable of the developer's in the runs

CASES = [case_row(f"c{i}", f"2025-03-{1 + i % 28:02d} 09:00", district="东湖区") for i in range(60)]
CALLS = [call_row(f"h{i}", f"2025-03-{1 + i % 28:02d} 10:00", district="江北区") for i in range(90)]


def _exports(folder: Path) -> tuple[Path, ...]:
    folder.mkdir(parents=True, exist_ok=True)
    cases, calls = folder / "cases.csv", folder / "hotline.csv"
    text_frame(CASES, RecordKind.CASES).drop(columns="_row").to_csv(cases, index=False)
    text_frame(CALLS, RecordKind.HOTLINE).drop(columns="_row").to_csv(calls, index=False)
    return cases, calls


def _call(home: Path, paths: tuple[Path, ...], **fields: object) -> IngestCall:
    return IngestCall(paths, Settings(home=home, ingest_chunk_rows=10), TEST_KEY, **fields)  # type: ignore[arg-type]


def _stored(home: Path) -> dict[str, int]:
    store = open_warehouse(Settings(home=home))
    return {
        table.name: len(store.read_table(table))
        for table in (tables.cases, tables.hotline, tables.ingest_runs)
    }


def test_a_run_taken_by_the_flow_commits_the_store_a_plain_run_makes(tmp_path: Path) -> None:
    paths = _exports(tmp_path / "exports")
    plain = ingest_with_progress(_call(tmp_path / "plain", paths))
    call = _call(tmp_path / "ahead", paths)
    with ingest_ahead(call):
        started = taken_ahead(call)
        assert started is not None
        report = started.take()
        assert taken_ahead(call) is None  # taken once
    pd.testing.assert_frame_equal(report.accounting, plain.accounting)
    assert _stored(tmp_path / "ahead") == {"cases": 60, "hotline": 90, "ingest_runs": 2}
    fingerprints = {
        stored_fingerprint(open_warehouse(Settings(home=tmp_path / h))) for h in ("plain", "ahead")
    }
    assert len(fingerprints) == 1


@pytest.mark.parametrize("at_commit", [False, True])
def test_a_run_nobody_takes_is_rolled_back(tmp_path: Path, at_commit: bool) -> None:
    paths = _exports(tmp_path / "exports")
    open_warehouse(Settings(home=tmp_path / "home"))  # the store exists, empty
    call = _call(tmp_path / "home", paths)
    with ingest_ahead(call):
        if at_commit:  # its work done, waiting inside its transaction; else stopped at its next chunk
            started = taken_ahead(call)
            assert started is not None and started.at_commit.wait(timeout=120)
            started.abandon()  # as the block's end does with a run nobody took
    assert _stored(tmp_path / "home") == {"cases": 0, "hotline": 0, "ingest_runs": 0}


def test_another_run_waiting_is_rolled_back_before_the_caller_ingests(tmp_path: Path) -> None:
    paths = _exports(tmp_path / "exports")
    with ingest_ahead(_call(tmp_path / "home", paths)):
        assert taken_ahead(_call(tmp_path / "home", paths[:1])) is None  # the other one was abandoned
        ingest_with_progress(_call(tmp_path / "home", paths[:1]))  # its transaction is free
    assert _stored(tmp_path / "home") == {"cases": 60, "hotline": 0, "ingest_runs": 1}


@pytest.mark.parametrize(
    "other",
    [
        lambda call: replace(call, paths=call.paths[:1]),
        lambda call: replace(call, kind=RecordKind.CASES),
        lambda call: replace(call, key=b"another-key-0123456789abcdef01234567"),
        lambda call: replace(call, settings=call.settings.model_copy(update={"ingest_chunk_rows": 11})),
    ],
)
def test_only_the_same_arguments_take_the_run(
    tmp_path: Path, other: Callable[[IngestCall], IngestCall]
) -> None:
    paths = _exports(tmp_path / "exports")
    call = _call(tmp_path / "home", paths)
    with ingest_ahead(call):
        assert taken_ahead(other(call)) is None
    with ingest_ahead(call):
        assert taken_ahead(_call(tmp_path / "home", paths)) is not None  # equal arguments, another object
    assert taken_ahead(call) is None  # none waits after the block


def test_the_runs_error_reaches_whoever_takes_it(tmp_path: Path) -> None:
    paths = _exports(tmp_path / "exports")
    call = _call(tmp_path / "home", paths, mapping_file=tmp_path / "missing.toml")
    with ingest_ahead(call):
        started = taken_ahead(call)
        assert started is not None
        with pytest.raises(MappingError, match="cannot read the mapping file"):
            started.take()


def test_a_command_whose_flow_never_starts_leaves_the_store_as_it_was(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _exports(tmp_path / "exports")
    open_warehouse(settings)
    monkeypatch.setattr(cli_flows, "start_prefect", lambda settings: None)

    @contextmanager
    def server_never_answers() -> Iterator[None]:
        raise RuntimeError("Prefect's server did not start")
        yield

    monkeypatch.setattr(cli_flows, "ready_to_run", server_never_answers)
    result = CliRunner().invoke(app, ["--home", str(settings.home), "ingest", *map(str, paths)])
    assert result.exit_code == 1
    assert "error: Prefect's server did not start" in result.output
    assert _stored(settings.home) == {"cases": 0, "hotline": 0, "ingest_runs": 0}


@pytest.mark.slow
def test_the_command_s_flow_commits_the_run_it_started(
    prefect_harness: None, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipelines.ingest_flow

    taken: list[bool] = []

    def spied(call: IngestCall) -> object:
        started = taken_ahead(call)
        taken.append(started is not None)
        return started

    monkeypatch.setattr(pipelines.ingest_flow, "taken_ahead", spied)
    paths = _exports(tmp_path / "exports")
    result = CliRunner().invoke(app, ["--home", str(settings.home), "ingest", *map(str, paths)])
    assert result.exit_code == 0, result.output
    assert taken == [True]
    assert _stored(settings.home) == {"cases": 60, "hotline": 90, "ingest_runs": 2}
