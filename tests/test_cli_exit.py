"""The command line leaves the heap to the operating system at exit, after every other exit handler."""

from __future__ import annotations

import gc

import pytest
from typer.testing import CliRunner

from pipelines import cli_base
from pipelines.cli import app


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
