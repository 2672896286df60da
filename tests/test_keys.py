"""The pseudonymisation key: long enough, the same for every run (checked by its fingerprint), rotated only
explicitly from the complete raw exports; and the home folder's files readable by their owner only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from contracts.settings import Settings
from contracts.vocabulary import RecordKind
from ingest.run import ingest_paths
from pipelines.cli import app
from pipelines.runtime import (
    KEY_FINGERPRINT,
    KeyMismatchError,
    MissingKeyError,
    RotationError,
    key_fingerprint,
    keyed_store,
    open_warehouse,
    pseudonym_key,
    rotate_pseudonyms,
    secure_home,
    stored_sources,
)
from warehouse import tables
from warehouse.store import Warehouse, read_meta

OLD_KEY = b"old-key-0123456789abcdef0123456789abcdef"
NEW_KEY = b"new-key-0123456789abcdef0123456789abcdef"
CASES = (
    "case_id,opened_at,district,category,reporter_phone,description\n"
    "c1,2025-03-01 09:00,东湖区,劳资纠纷,13912345678,工资\n"
    "c2,2025-03-02 09:00,东湖区,邻里纠纷,13800001111,噪音\n"
)
EVENTS = "case_id,event_at,event_type\nc1,2025-03-03 09:00,visit\nc9,2025-03-04 09:00,visit\n"
CALLS = (
    "call_id,received_at,district,caller_phone,case_id\n"
    "h1,2025-03-05 10:00,东湖区,13912345678,c1\n"
    "h2,not-a-date,东湖区,13800001111,\n"
)
runner = CliRunner()


def _settings(home: Path, key: bytes | None) -> Settings:
    return Settings(home=home, pseudonym_key=None if key is None else SecretStr(key.decode()))


@pytest.fixture
def exports(tmp_path: Path) -> dict[str, Path]:
    """A tiny delivery: two cases, events (one whose case never arrives), two calls (one undated)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    files = {"cases": CASES, "case_events": EVENTS, "hotline": CALLS}
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return {name: folder / f"{name}.csv" for name in files}


def _ingest(warehouse: Warehouse, paths: list[Path], key: bytes, rotate: bool = False) -> None:
    with keyed_store(warehouse, key, rotate=rotate) as store:
        ingest_paths(paths, store, key)


def _pids(warehouse: Warehouse) -> list[str]:
    cases = warehouse.read_records(RecordKind.CASES).sort_values("case_id")
    return cases["reporter_phone_pid"].tolist()


@pytest.mark.parametrize(("key", "message"), [("", "is empty"), ("short-key", "is 9 bytes; at least 32")])
def test_an_empty_or_short_key_is_refused(tmp_path: Path, key: str, message: str) -> None:
    with pytest.raises(MissingKeyError, match=message):
        pseudonym_key(Settings(home=tmp_path, pseudonym_key=SecretStr(key)))


def test_a_long_key_is_accepted_and_a_generated_local_key_is_private(tmp_path: Path) -> None:
    assert pseudonym_key(_settings(tmp_path, OLD_KEY)) == (OLD_KEY, "FENGQIAO_PSEUDONYM_KEY")
    settings = _settings(tmp_path / "demo", None)
    key, origin = pseudonym_key(settings, allow_local=True)
    assert len(key) == 64 and origin == str(settings.local_key_file)
    assert stat.S_IMODE(settings.local_key_file.stat().st_mode) == 0o600


def test_the_fingerprint_is_a_keyed_hash_not_the_key() -> None:
    fingerprint = key_fingerprint(OLD_KEY)
    assert len(fingerprint) == 64 and OLD_KEY.hex() not in fingerprint
    assert fingerprint == key_fingerprint(OLD_KEY) != key_fingerprint(NEW_KEY)


def test_the_first_ingest_records_the_fingerprint_and_a_different_key_is_refused(
    tmp_path: Path, exports: dict[str, Path]
) -> None:
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")
    _ingest(warehouse, [exports["cases"]], OLD_KEY)
    with warehouse.transaction() as connection:
        assert read_meta(connection, KEY_FINGERPRINT) == key_fingerprint(OLD_KEY)
    before = _pids(warehouse)

    with pytest.raises(
        KeyMismatchError, match=f"different key \\(fingerprint {key_fingerprint(OLD_KEY)[:12]}…"
    ):
        _ingest(warehouse, list(exports.values()), NEW_KEY)
    assert _pids(warehouse) == before  # nothing touched
    assert warehouse.read_records(RecordKind.HOTLINE).empty
    _ingest(warehouse, [exports["hotline"]], OLD_KEY)  # the same key goes on working
    assert len(warehouse.read_records(RecordKind.HOTLINE)) == 1


def test_rotation_re_pseudonymises_every_record_and_keeps_what_carries_no_pseudonym(
    tmp_path: Path, exports: dict[str, Path]
) -> None:
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")
    _ingest(warehouse, list(exports.values()), OLD_KEY)
    cases_v2 = CASES.replace("工资", "工资拖欠")  # an update: its earlier version goes to record_history
    exports["cases"].write_text(cases_v2, encoding="utf-8")
    _ingest(warehouse, [exports["cases"]], OLD_KEY)
    old_pids = _pids(warehouse)
    assert len(warehouse.read_table(tables.record_history)) == 1
    shown = ["kind", "row", "field", "value", "reason"]
    entries = warehouse.read_table(tables.quarantine).sort_values("kind")[shown]
    assert entries[["kind", "field"]].values.tolist() == [
        ["case_events", "case_id"],
        ["hotline", "received_at"],
    ]

    _ingest(warehouse, list(exports.values()), NEW_KEY, rotate=True)

    new_pids = _pids(warehouse)
    fresh = Warehouse(f"sqlite:///{tmp_path / 'fresh.db'}")
    _ingest(fresh, list(exports.values()), NEW_KEY)
    assert new_pids == _pids(fresh) and not set(new_pids) & set(old_pids)
    calls = warehouse.read_records(RecordKind.HOTLINE)["caller_phone_pid"].tolist()
    assert calls == fresh.read_records(RecordKind.HOTLINE)["caller_phone_pid"].tolist() == [new_pids[0]]
    assert warehouse.read_table(tables.record_history).empty  # old versions carried old pseudonyms
    rotated = warehouse.read_table(tables.quarantine)
    assert rotated.loc[rotated["released_at"].notna(), "kind"].tolist() == ["case_events"]  # re-delivered
    rotated = rotated[rotated["released_at"].isna()]  # the call's entry was removed and made again
    expected = fresh.read_table(tables.quarantine).sort_values("kind")[shown].values.tolist()
    assert rotated.sort_values("kind")[shown].values.tolist() == expected == entries.values.tolist()
    assert warehouse.read_table(tables.held_events)["record_key"].str.startswith("c9").all()
    with warehouse.transaction() as connection:
        assert read_meta(connection, KEY_FINGERPRINT) == key_fingerprint(NEW_KEY)
    with pytest.raises(KeyMismatchError):
        _ingest(warehouse, [exports["cases"]], OLD_KEY)


def test_a_rotation_missing_records_or_cases_is_refused_and_changes_nothing(
    tmp_path: Path, exports: dict[str, Path]
) -> None:
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'store.db'}")
    _ingest(warehouse, list(exports.values()), OLD_KEY)
    before = _pids(warehouse)

    with pytest.raises(
        RotationError, match=r"1 stored hotline records are not in the given exports \(e.g. h1\)"
    ):
        _ingest(warehouse, [exports["cases"]], NEW_KEY, rotate=True)
    with pytest.raises(RotationError, match="the given paths stored no cases"):
        _ingest(warehouse, [exports["case_events"]], NEW_KEY, rotate=True)
    one_case = tmp_path / "cases_partial.csv"
    one_case.write_text("\n".join(CASES.splitlines()[:2]) + "\n", encoding="utf-8")
    with pytest.raises(
        RotationError, match=r"1 stored cases records are not in the given exports \(e.g. c2\)"
    ):
        _ingest(warehouse, [one_case, exports["hotline"]], NEW_KEY, rotate=True)

    assert _pids(warehouse) == before
    assert len(warehouse.read_records(RecordKind.HOTLINE)) == 1
    with warehouse.transaction() as connection:
        assert read_meta(connection, KEY_FINGERPRINT) == key_fingerprint(OLD_KEY)


def test_cli_ingest_refuses_another_key_and_rotates_with_the_flag(
    tmp_path: Path, exports: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the command: the key check runs before any flow starts; `--rotate-key` runs without one,
    and removes the store's columnar copy (which held the old pseudonyms)."""
    home = tmp_path / "home"
    _ingest(open_warehouse(_settings(home, OLD_KEY)), list(exports.values()), OLD_KEY)
    monkeypatch.setenv("FENGQIAO_PSEUDONYM_KEY", NEW_KEY.decode())
    result = runner.invoke(app, ["--home", str(home), "ingest", str(exports["cases"])])
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "this store was pseudonymised with a different key" in output and "--rotate-key" in output

    result = runner.invoke(app, ["--home", str(home), "ingest", "--rotate-key", str(exports["cases"])])
    assert result.exit_code == 1
    assert "1 stored hotline records are not in the given exports" in " ".join(result.output.split())

    stored_sources(_settings(home, OLD_KEY))  # a columnar copy of the old pseudonyms
    assert len(list(_settings(home, OLD_KEY).store_mirror_dir.iterdir())) == 3
    folder = str(exports["cases"].parent)
    result = runner.invoke(app, ["--home", str(home), "ingest", "--rotate-key", folder])
    assert result.exit_code == 0, result.output
    assert "key rotated" in result.output
    settings = _settings(home, NEW_KEY)
    assert list(settings.store_mirror_dir.iterdir()) == []  # no old pseudonym stays on disk
    with open_warehouse(settings).transaction() as connection:
        assert read_meta(connection, KEY_FINGERPRINT) == key_fingerprint(NEW_KEY)
    pids = open_warehouse(settings).read_records(RecordKind.CASES)["reporter_phone_pid"]
    assert pids.notna().all() and len(pids) == 2


def test_rotate_pseudonyms_needs_a_valid_new_key(tmp_path: Path, exports: dict[str, Path]) -> None:
    with pytest.raises(MissingKeyError, match="is 5 bytes"):
        rotate_pseudonyms([exports["cases"]], Settings(home=tmp_path, pseudonym_key=SecretStr("short")))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_opening_the_home_makes_it_and_its_files_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    loose = ["warehouse.db", "warehouse.db-wal", "warehouse.db-shm", "mlflow.db", "pseudonym.key"]
    for name in loose:
        (home / name).write_text("x")
        (home / name).chmod(0o644)
    (home / "lists").mkdir()
    secure_home(Settings(home=home))
    assert _mode(home) == 0o700
    assert {name: _mode(home / name) for name in loose} == dict.fromkeys(loose, 0o600)


def test_a_new_store_and_its_wal_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        warehouse = open_warehouse(Settings(home=tmp_path / "new"))
        with warehouse.transaction() as connection:
            connection.execute(
                tables.store_meta.insert().values(name="a", value="b", updated_at=pd.Timestamp(0))
            )
        with warehouse.engine.connect():  # keeps the WAL and shared-memory files while we look
            files = {p.name: _mode(p) for p in (tmp_path / "new").iterdir()}
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "new") == 0o700
    assert files == dict.fromkeys(["warehouse.db", "warehouse.db-wal", "warehouse.db-shm"], 0o600)


@pytest.mark.slow
def test_a_command_leaves_the_home_private(tmp_path: Path) -> None:
    """The command line sets umask 077: a new home, its store and its WAL files are the owner's only."""
    home = tmp_path / "cli-home"
    script = (
        "import os, sys; os.umask(0o022)\n"
        "from typer.testing import CliRunner\n"
        "from pipelines.cli import app\n"
        f"result = CliRunner().invoke(app, ['--home', {str(home)!r}, 'users', 'list'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(oct(os.umask(0)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0o77"
    assert _mode(home) == 0o700
    assert {p.name: _mode(p) for p in home.iterdir() if p.is_file()} == {"warehouse.db": 0o600}


def test_a_file_already_private_is_left_untouched(tmp_path: Path) -> None:
    """Opening the home again changes nothing of a private store (its status-change time is part of the
    registry state the champion's memo compares)."""
    home = tmp_path / "home"
    secure_home(Settings(home=home))
    database = home / "mlflow.db"
    database.write_text("x")
    database.chmod(0o600)
    before = database.stat().st_ctime_ns
    secure_home(Settings(home=home))
    assert database.stat().st_ctime_ns == before and _mode(database) == 0o600
