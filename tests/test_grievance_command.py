"""Emerging grievances from hotline records alone: `fengqiao grievances` for a day or a range, a daily run
before any model is trained, and the dashboard's grievances page before any list."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from contracts.records import LIST_COLUMNS
from contracts.settings import Settings
from dashboards.labels import ZH
from features.grievances import cluster_id, empty_clusters
from pipelines.cli import app
from pipelines.grievance_flow import published_grievances
from pipelines.runtime import ingest_keyed
from tests.builders import TEST_KEY, call_row
from tests.dashboard_home import use_home
from warehouse import tables
from warehouse.accounts import Role, add_account
from warehouse.lists import publish_day, read_list, read_pointer, table_bytes
from warehouse.store import Warehouse

runner = CliRunner()
DAY = date(2025, 6, 10)
EAST, NORTH = "东湖区", "江北区"
SURGING, QUIET = "宏达服装厂", "青山村"
FORMULA_CATEGORY = "=土地纠纷"  # a delivered category a spreadsheet would run as a formula
PASSWORD = "correct-horse-9"


def _phone(n: int) -> str:
    return f"139{n:08d}"


def _calls() -> list[dict[str, str]]:
    """Eight callers name a garment factory in the east over the three days before DAY (3, 3, 2), one of
    them twice; four name a village in the north five days before; three calls name nothing."""
    rows, n = [], 0
    for offset, count in ((3, 3), (2, 3), (1, 2)):
        for i in range(count):
            received = f"{DAY - timedelta(days=offset)} {9 + i}:15:00"
            text = "宏达服装厂拖欠工资三个月了"
            rows.append(
                call_row(f"H{n:03d}", received, category="劳资纠纷", text=text, caller_phone=_phone(n))
            )
            n += 1
    again = {"category": "劳资纠纷", "text": "我叫张伟，宏达服装厂还是不发工资", "caller_phone": _phone(0)}
    rows.append(call_row("H100", f"{DAY - timedelta(days=1)} 16:00:00", **again))
    for i in range(4):
        village = {
            "category": FORMULA_CATEGORY,
            "text": "青山村的土地被占用了",
            "caller_phone": _phone(50 + i),
        }
        rows.append(call_row(f"Q{i}", f"{DAY - timedelta(days=5)} 1{i}:00:00", district=NORTH, **village))
    for i, text in enumerate(("路灯坏了", "楼上噪音扰民", "停水了")):
        other = {"category": "其他", "text": text, "caller_phone": _phone(80 + i)}
        rows.append(call_row(f"N{i}", f"{DAY - timedelta(days=7 - i)} 08:00:00", district=NORTH, **other))
    return rows


RAW_PHONES = tuple(_phone(n) for n in (0, 1, 50, 80))


def _write_hotline(path: Path) -> Path:
    rows = _calls()
    fields = list(dict.fromkeys(k for row in rows for k in row))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def stored_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose store holds the hotline records only: no case, no event, no model."""
    folder = tmp_path_factory.mktemp("hotline-only")
    settings = Settings(home=folder / "home")
    report = ingest_keyed([_write_hotline(folder / "hotline.csv")], settings, TEST_KEY)
    assert report.accounting["accepted"].sum() == len(_calls())
    return settings.home


@pytest.fixture
def home(stored_home: Path, settings: Settings) -> Settings:
    """A fresh copy of the hotline-only home, with the test's settings (key, no FENGQIAO_* else)."""
    shutil.copytree(stored_home, settings.home)
    return settings


def _grievances(settings: Settings, *args: str) -> str:
    result = runner.invoke(app, ["--home", str(settings.home), "grievances", *args])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def _published(settings: Settings, day: date) -> pd.DataFrame:
    return pd.read_parquet(settings.lists_dir / f"{day}.grievances.parquet")


COMPARED = ["cluster_id", "thing", "thing_kind", "district", "category", "calls", "distinct_callers"]
COMPARED += ["new_callers", "prior_calls", "cases", "case_ids", "open_case_ids", "surge"]


def _surge(callers: int, calls: int) -> dict[str, object]:
    return {
        "cluster_id": cluster_id(EAST, SURGING),
        "thing": SURGING,
        "thing_kind": "company",
        "district": EAST,
        "category": "劳资纠纷",
        "calls": calls,
        "distinct_callers": callers,
        "new_callers": callers,
        "prior_calls": 0,
        "cases": 0,
        "case_ids": "",
        "open_case_ids": "",
        "surge": callers >= 7,  # P(N >= 7 | usual 1) = 8.3e-5 < 1e-4; with 6 callers 5.9e-4
    }


VILLAGE = {
    "cluster_id": cluster_id(NORTH, QUIET),
    "thing": QUIET,
    "thing_kind": "village",
    "district": NORTH,
    "category": FORMULA_CATEGORY,
    "calls": 4,
    "distinct_callers": 4,
    "new_callers": 4,
    "prior_calls": 0,
    "cases": 0,
    "case_ids": "",
    "open_case_ids": "",
    "surge": False,  # P(N >= 4 | 1) = 0.019: emerging, no surge
}


def test_a_days_grievances_from_hotline_records_alone(home: Settings) -> None:
    output = _grievances(home, "--as-of", DAY.isoformat())
    assert f"Emerging grievances {DAY}: 2, 1 surging" in output
    assert SURGING in output and "SURGE" in output
    published = _published(home, DAY)
    assert published[COMPARED].to_dict("records") == [_surge(callers=8, calls=9), VILLAGE]
    assert published["p_value"].tolist() == pytest.approx(
        [stats.poisson.sf(7, 1.0), stats.poisson.sf(3, 1.0)]
    )
    csv_bytes = (home.lists_dir / f"{DAY}.grievances.csv").read_bytes()
    assert csv_bytes == table_bytes(published)["csv"]
    people = pd.read_csv(io.BytesIO(csv_bytes), encoding="utf-8-sig", keep_default_na=False)
    assert people["category"].tolist() == ["劳资纠纷", "'" + FORMULA_CATEGORY]  # a formula cell neutralised
    everything = csv_bytes.decode("utf-8-sig") + published.to_csv()
    assert not [p for p in (*RAW_PHONES, "张伟") if p in everything]
    stored = Warehouse(home.warehouse_url).read_table(tables.grievances)
    assert stored[["as_of", "cluster_id", "surge"]].to_dict("records") == [
        {"as_of": DAY, "cluster_id": cluster_id(EAST, SURGING), "surge": True},
        {"as_of": DAY, "cluster_id": cluster_id(NORTH, QUIET), "surge": False},
    ]
    assert sorted(p.name for p in home.lists_dir.iterdir()) == [
        f"{DAY}.grievances.csv",
        f"{DAY}.grievances.parquet",
    ]
    assert read_pointer(home.lists_dir) is None


def test_the_same_day_twice_gives_the_same_files_and_rows(home: Settings) -> None:
    _grievances(home, "--as-of", DAY.isoformat())
    names = (f"{DAY}.grievances.parquet", f"{DAY}.grievances.csv")
    first = {name: (home.lists_dir / name).read_bytes() for name in names}
    stored = Warehouse(home.warehouse_url).read_table(tables.grievances)
    _grievances(home, "--as-of", DAY.isoformat())
    assert {name: (home.lists_dir / name).read_bytes() for name in names} == first
    pd.testing.assert_frame_equal(Warehouse(home.warehouse_url).read_table(tables.grievances), stored)


def _listed(as_of: date) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": [1],
            "case_id": ["A"],
            "district": [EAST],
            "town": [None],
            "category": ["劳资纠纷"],
            "opened_at": pd.to_datetime(["2025-05-01 09:00"]).astype("datetime64[us]"),
            "score": [0.4],
            "band": ["high"],
            "reasons": ["近7天关联热线来电3次"],
            "model_version": "m/v1",
            "as_of": as_of,
        }
    )[list(LIST_COLUMNS)]


def _publish_list(settings: Settings, as_of: date) -> dict[str, bytes]:
    """A list published earlier (without grievances); its files' bytes by name."""
    no_grievances = published_grievances(empty_clusters())
    description = {"as_of": as_of.isoformat(), "model_version": "m/v1"}
    warehouse = Warehouse(settings.warehouse_url)
    publish_day(_listed(as_of), description, settings.lists_dir, warehouse, no_grievances)
    return {p.name: p.read_bytes() for p in settings.lists_dir.iterdir() if ".grievances." not in p.name}


def test_a_range_writes_each_day_and_leaves_the_latest_list_as_it_was(home: Settings) -> None:
    before = DAY - timedelta(days=1)
    list_files = _publish_list(home, before)
    pointer = read_pointer(home.lists_dir)
    output = _grievances(home, "--from", str(DAY - timedelta(days=2)), "--to", str(DAY))
    assert "Emerging grievances, 3 days" in output and f"{SURGING} ({EAST}, 8 callers)" in output
    by_day = {day: _published(home, day)[COMPARED].to_dict("records") for day in (before, DAY)}
    first = _published(home, DAY - timedelta(days=2))[COMPARED].to_dict("records")
    assert first == [VILLAGE, _surge(callers=3, calls=3)]  # new: nobody named it in the weeks before
    assert by_day == {
        before: [_surge(callers=6, calls=6), VILLAGE],
        DAY: [_surge(callers=8, calls=9), VILLAGE],
    }
    assert read_pointer(home.lists_dir) == pointer and pointer["as_of"] == before.isoformat()
    assert {name: (home.lists_dir / name).read_bytes() for name in list_files} == list_files
    warehouse = Warehouse(home.warehouse_url)
    stored_list = read_list(warehouse, before)[list(LIST_COLUMNS)]
    pd.testing.assert_frame_equal(stored_list, _listed(before), check_dtype=False)
    stored = warehouse.read_table(tables.grievances).groupby("as_of").size().to_dict()
    assert stored == {DAY - timedelta(days=2): 2, before: 2, DAY: 2}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ([], 2, "give --as-of DATE, or --from DATE and --to DATE"),
        (["--from", "2025-06-01"], 2, "give --as-of DATE, or --from DATE and --to DATE"),
        (["--as-of", "2025-06-01", "--to", "2025-06-02"], 2, "give --as-of DATE"),
        (["--as-of", "20250601"], 2, "YYYY-MM-DD"),
        (["--from", "2025-06-02", "--to", "2025-06-01"], 1, "--to 2025-06-01 is before --from 2025-06-02"),
    ],
)
def test_wrong_dates_are_explained(home: Settings, args: list[str], code: int, message: str) -> None:
    result = runner.invoke(app, ["--home", str(home.home), "grievances", *args])
    assert result.exit_code == code
    assert message in " ".join(result.output.split())
    assert not home.lists_dir.exists()


PROBE = """
import sys
from typer.testing import CliRunner
from pipelines.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
print(result.exit_code, "prefect" in sys.modules, "mlflow" in sys.modules)
"""


@pytest.mark.slow
def test_the_command_starts_no_flow_server(home: Settings) -> None:
    """Prefect (whose temporary server takes ~20 s to start and may fail under load) is never imported."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("FENGQIAO_", "PREFECT_"))}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "--home", str(home.home), "grievances", "--as-of", str(DAY)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "False", "False"]
    assert len(_published(home, DAY)) == 2


@pytest.mark.slow
def test_a_daily_run_without_a_model_publishes_the_grievances_and_says_why(
    prefect_harness: None, settings: Settings
) -> None:
    """An office with hotline records only: the delivery goes in, no list is scored, the day's grievances
    are published, the run succeeds, and the list published earlier stays the latest."""
    _write_hotline(settings.inbox_dir / "hotline.csv")
    list_files = _publish_list(settings, DAY - timedelta(days=1))
    pointer = read_pointer(settings.lists_dir)
    result = runner.invoke(app, ["--home", str(settings.home), "run-daily", "--as-of", str(DAY)])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert f"no list was scored for {DAY}: no model is trained yet" in output
    assert _published(settings, DAY)[COMPARED].to_dict("records") == [_surge(callers=8, calls=9), VILLAGE]
    assert not (settings.lists_dir / f"{DAY}.parquet").exists()
    assert read_pointer(settings.lists_dir) == pointer
    assert {name: (settings.lists_dir / name).read_bytes() for name in list_files} == list_files
    report = json.loads((settings.reports_dir / f"{DAY}.json").read_text(encoding="utf-8"))
    assert (report["status"], report["grievances"]["clusters"], report["grievances"]["surges"]) == (
        "no_model",
        2,
        1,
    )
    assert [row["accepted"] for row in report["ingest"]] == [len(_calls())]
    assert (settings.inbox_dir / "done" / str(DAY) / "hotline.csv").exists()


def _dashboard(home: Settings, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts for the app (an analyst of each district), and the app pointed at the home."""
    with Warehouse(home.warehouse_url).transaction() as connection:
        add_account(connection, "ana", Role.ANALYST, (EAST,), PASSWORD)
        add_account(connection, "nora", Role.ANALYST, (NORTH,), PASSWORD)
    use_home(home.home, folder, monkeypatch)


def _grievance_page(name: str) -> AppTest:
    app_test = AppTest.from_file(
        str(Path(__file__).resolve().parents[1] / "dashboards" / "app.py"), default_timeout=60
    ).run()
    app_test.text_input(key="login_name").input(name)
    app_test.text_input(key="login_password").input(PASSWORD)
    app_test.button[0].click().run()
    app_test.switch_page("views/grievances.py").run()
    assert not app_test.exception, app_test.exception
    return app_test


def test_the_grievances_page_shows_grievances_published_without_a_list(
    home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _grievances(home, "--from", str(DAY - timedelta(days=1)), "--to", str(DAY))
    _dashboard(home, tmp_path, monkeypatch)
    east = _grievance_page("ana")
    assert east.selectbox(key="list_date").value == DAY  # the newest day first
    assert east.selectbox(key="list_date").options == [str(DAY), str(DAY - timedelta(days=1))]
    assert east.dataframe[0].value[ZH["thing"]].tolist() == [SURGING]
    assert ZH["surges_banner"].format(n=1) in [w.value for w in east.warning]
    east.session_state["grievance_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    east.run()
    assert not east.exception and len(east.dataframe) == 1  # no list that day: no cases table
    assert [s.value for s in east.subheader] == [SURGING]
    north = _grievance_page("nora")
    assert north.dataframe[0].value[ZH["thing"]].tolist() == [QUIET]
    north.selectbox(key="list_date").set_value(DAY - timedelta(days=1)).run()
    assert north.dataframe[0].value[ZH["thing"]].tolist() == [QUIET]
