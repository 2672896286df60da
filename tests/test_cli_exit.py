"""The command line leaves the heap to the operating system at exit, after every other exit handler."""

from __future__ import annotations

import gc

import pytest
from typer.testing import CliRunner

from pipelines import cli_base
from pipelines.cli import app
from pipelines.entry import RUN_GC_THRESHOLDS


def test_every_command_skips_the_last_collections(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[object] = []
    monkeypatch.setattr(cli_base.atexit, "register", registered.append)
    result = CliRunner().invoke(app, ["settings"])
    assert result.exit_code == 0, result.output
    assert registered == [cli_base.skip_exit_collection]


def test_skipping_turns_the_collector_off_and_freezes_the_heap() -> None:
    try:
        cli_base.skip_exit_collection()
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


def test_the_stores_connections_are_closed_before_the_heap_is_left(tmp_path) -> None:
    """SQLite folds its WAL file back when the last connection closes: the exit must still close them."""
    from warehouse.store import Warehouse

    store = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")
    with store.transaction() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    assert (tmp_path / "store.db-wal").exists()
    try:
        cli_base.skip_exit_collection()
    finally:
        gc.unfreeze()
        gc.enable()
    assert not (tmp_path / "store.db-wal").exists()
    assert store is not None


def test_a_command_runs_with_its_imports_frozen_and_gives_them_back_at_its_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Collections during a command's work skip what its imports made and come less often
    (`ready_to_run`); the collector is as it was after the command."""
    seen: list[str] = []
    monkeypatch.setattr(cli_base, "wait_for_server", lambda: seen.append("waited"))
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0 and before != RUN_GC_THRESHOLDS
    with cli_base.user_errors():
        seen.append(f"frozen {gc.get_freeze_count() > 0}, thresholds {gc.get_threshold()}")
    assert seen == ["waited", f"frozen True, thresholds {RUN_GC_THRESHOLDS}"]
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before
    with pytest.raises(cli_base.typer.Exit), cli_base.user_errors():
        raise ValueError("a problem the user can fix")
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before


def test_flows_of_a_command_send_no_heartbeats_unless_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """Within a command, flows run without Prefect's heartbeat thread (each flow waited for it at its end);
    one set by the user is kept, and after the command Prefect's own setting is back."""
    from prefect.settings import get_current_settings, temporary_settings

    monkeypatch.setattr(cli_base, "wait_for_server", lambda: None)
    default = get_current_settings().flows.heartbeat_frequency
    assert default is not None
    with cli_base.user_errors():
        assert get_current_settings().flows.heartbeat_frequency is None
    assert get_current_settings().flows.heartbeat_frequency == default
    with temporary_settings(updates={"flows.heartbeat_frequency": 60}), cli_base.user_errors():
        assert get_current_settings().flows.heartbeat_frequency == 60


ENTRY_SPY = """
import gc, sys
class Spy:
    def find_spec(self, name, path=None, target=None):
        if name == "pipelines.cli":
            print("thresholds when the command line loads", gc.get_threshold())
        return None
sys.meta_path.insert(0, Spy())
sys.argv = ["fengqiao", "--help"]
from pipelines.entry import main
try:
    main()
except SystemExit:
    pass
"""


def test_the_executable_sets_the_run_thresholds_before_the_command_line_loads() -> None:
    import subprocess
    import sys
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["fengqiao"] == "pipelines.entry:main"
    done = subprocess.run([sys.executable, "-c", ENTRY_SPY], capture_output=True, text=True, check=True)
    assert f"thresholds when the command line loads {RUN_GC_THRESHOLDS}" in done.stdout
    assert "Usage: fengqiao" in done.stdout
