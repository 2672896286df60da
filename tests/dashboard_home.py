"""A tiny populated home for the dashboard tests: two districts, two published lists (the second with its
emerging grievances: a surge in the east, a quieter cluster in each district), users, a report.

Raw phone and ID numbers are fed in (and must never come out): they are masked or pseudonymised
at ingest by the same validation a real delivery goes through.
"""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from contracts.records import LIST_COLUMNS
from contracts.routing import assign_units, assignment_rows, load_routing
from contracts.settings import Settings
from contracts.vocabulary import RecordKind
from features.grievances import cluster_id, empty_clusters
from pipelines.grievance_flow import published_grievances
from tests.builders import call_row, case_row, event_row, stored
from warehouse.accounts import Account, Role, add_account
from warehouse.lists import mark_stale, publish_day
from warehouse.store import Warehouse, append
from warehouse.tables import INPUT_TABLES

EAST, NORTH = "东湖区", "江北区"
SURGING, EAST_QUIET, NORTH_QUIET = "宏达服装厂", "东湖新村", "北岸小区"
RAW_PHONE, RAW_ID = "13812345678", "110101199003077777"
SECRET_NUMBERS = (RAW_PHONE, "138 1234 5678", RAW_ID)
PASSWORD = "correct-horse-9"
FIRST, SECOND = date(2025, 3, 1), date(2025, 4, 10)
USERS = {
    "admin": Account("admin", Role.ADMIN),
    "ana": Account("ana", Role.ANALYST, (EAST,)),
    "nora": Account("nora", Role.ANALYST, (NORTH,)),
    "vic": Account("vic", Role.VIEWER),
}


def _cases() -> list[dict[str, str]]:
    personal = {"reporter_phone": RAW_PHONE, "reporter_id_number": RAW_ID, "reporter_name": "张三"}
    return [
        case_row("E1", "2025-01-05 09:00", town="湖滨街道", description=f"欠薪，电话{RAW_PHONE}", **personal),
        case_row("E2", "2025-04-05 10:00", category="邻里纠纷", description=f"身份证{RAW_ID}"),
        case_row("E3", "2025-01-20 08:00", category="物业纠纷"),
        case_row("N1", "2025-01-10 09:00", district=NORTH, town="江北街道", description="噪音扰民"),
        case_row("N2", "2025-02-01 11:00", district=NORTH, category="婚姻家庭"),
    ]


def _events() -> list[dict[str, str]]:
    return [
        event_row("E1", "2025-01-06 09:00", "assigned"),
        event_row("E1", "2025-02-10 15:00", "mediation_failed", note=f"当事人电话 {RAW_PHONE} 无人接听"),
        event_row("E1", "2025-03-10 15:00", "group_incident"),
        event_row("N1", "2025-01-11 09:00", "visit", note="走访"),
        event_row("N1", "2025-03-05 09:00", "violence"),
    ]


def _calls() -> list[dict[str, str]]:
    return [
        call_row(
            "C1",
            "2025-02-20 21:00",
            case_id="E1",
            text=f"我的电话是138 1234 5678，身份证{RAW_ID}",
            caller_phone=RAW_PHONE,
            channel="phone",
        ),
        call_row("C2", "2025-02-21 08:00", district=NORTH, case_id="N1", text="又吵起来了", channel="web"),
        call_row("C3", "2025-02-22 08:00", district=NORTH, case_id="E1", text="北区打来的", channel="app"),
    ]


def _listed(as_of: date, rows: list[tuple[str, str, str, str, float, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["case_id", "district", "town", "category", "score", "band"])
    opened = {r["case_id"]: r["opened_at"] for r in _cases()}
    frame["rank"] = range(1, len(frame) + 1)
    frame["opened_at"] = pd.to_datetime(frame["case_id"].map(opened)).astype("datetime64[us]")
    frame["reasons"] = "近7天关联热线来电3次"
    frame["model_version"] = "fengqiao-escalation/v1"
    frame["as_of"] = as_of
    frame["town"] = frame["town"].replace("", None)
    return frame[list(LIST_COLUMNS)]


def _cluster(
    thing: str, kind: str, district: str, category: str, callers: int, calls: int, prior: int, **more: object
) -> dict[str, object]:
    """One emerging grievance of the second list, as `features.grievances` returns it (usual level 1)."""
    p_value = float(stats.poisson.sf(callers - 1, 1.0))
    surge = callers >= 5 and p_value < 1e-4
    row = {
        "cluster_id": cluster_id(district, thing),
        "thing": thing,
        "thing_kind": kind,
        "district": district,
        "category": category,
        "calls": calls,
        "distinct_callers": callers,
        "new_callers": callers - 1,
        "prior_calls": prior,
        "growth": calls / max(prior, 1),
        "cases_opened": 0,
        "size": calls,
        "cases": 0,
        "case_ids": (),
        "open_case_ids": (),
        "first_seen": pd.Timestamp("2025-04-04 09:30"),
        "usual": 1.0,
        "p_value": p_value,
        "surge": surge,
        "surge_reason": (
            f"近7天有{callers}位来电人（其中{callers - 1}位此前未反映过）提到{thing}，远高于平常水平"
            f"（约1.0位）；来电{calls}次，前7天{prior}次"
            if surge
            else ""
        ),
        "summary": f"{category}类来电；主要反映：物业({calls - 1})、停水停电({calls - 2})",
    }
    return row | more


def _grievances(as_of: date) -> pd.DataFrame:
    """The published grievances of a list: none on the first, three on the second (surge first)."""
    frame = empty_clusters()
    if as_of == SECOND:
        rows = [
            _cluster(
                SURGING,
                "company",
                EAST,
                "劳资纠纷",
                7,
                9,
                1,
                cases_opened=1,
                size=10,
                cases=2,
                case_ids=("E1", "E2"),
                open_case_ids=("E1", "E2"),
                first_seen=pd.Timestamp("2025-01-05 09:00"),
                summary="劳资纠纷类来电；主要反映：拖欠工资(8)；升级信号：群体聚集或上访(3)",
            ),
            _cluster(
                NORTH_QUIET,
                "estate",
                NORTH,
                "物业纠纷",
                4,
                5,
                2,
                cases=2,
                case_ids=("N1", "E1"),
                open_case_ids=("N1", "E1"),
            ),
            _cluster(EAST_QUIET, "estate", EAST, "物业纠纷", 4, 4, 0),
        ]
        frame = pd.concat([frame, pd.DataFrame(rows)], ignore_index=True).astype(frame.dtypes)
    return published_grievances(frame)


def _publish(warehouse: Warehouse, settings: Settings, routed: bool) -> None:
    first = [
        ("E1", EAST, "湖滨街道", "劳资纠纷", 0.41, "high"),
        ("N1", NORTH, "江北街道", "劳资纠纷", 0.35, "high"),
        ("E3", EAST, "", "物业纠纷", 0.10, "medium"),
        ("N2", NORTH, "", "婚姻家庭", 0.02, "low"),
    ]
    second = [
        ("N1", NORTH, "江北街道", "劳资纠纷", 0.38, "high"),
        ("E1", EAST, "湖滨街道", "劳资纠纷", 0.30, "high"),
        ("E2", EAST, "", "邻里纠纷", 0.12, "medium"),
        ("E3", EAST, "", "物业纠纷", 0.05, "low"),
        ("N2", NORTH, "", "婚姻家庭", 0.03, "low"),
    ]
    routing = load_routing(None)  # the shipped default, as a deployment without its own file routes
    previous: pd.DataFrame | None = None
    for as_of, rows in ((FIRST, first), (SECOND, second)):
        grievances = _grievances(as_of)
        description = {
            "as_of": as_of.isoformat(),
            "model_version": "fengqiao-escalation/v1",
            "cases": len(rows),
            "grievances": {"clusters": len(grievances), "surges": int(grievances["surge"].sum())},
        }
        listed = _listed(as_of, rows)
        if not routed:
            publish_day(listed, description, settings.lists_dir, warehouse, grievances)
            continue
        listed = assign_units(listed, routing.table, as_of, previous)
        previous = assignment_rows(listed, routing.table)
        publish_day(listed, description, settings.lists_dir, warehouse, grievances, assignments=previous)


def _reports(settings: Settings) -> None:
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    report = {
        "as_of": "2025-04-11",
        "status": "held",
        "model_version": "fengqiao-escalation/v1",
        "open_cases": 5,
        "bands": {"high": 2, "medium": 1, "low": 2},
        "verdict": {"hold": True, "reasons": ["input volume 5x the usual"], "warnings": []},
        "drift": [{"column": "score", "kind": "score", "psi": 0.31, "status": "drift", "top_shift": ""}],
    }
    (settings.reports_dir / "2025-04-11.json").write_text(json.dumps(report, ensure_ascii=False))
    outcomes = [
        {"as_of": FIRST.isoformat(), "model_version": "fengqiao-escalation/v1", "precision_at_k": 1.0}
    ]
    (settings.reports_dir / "outcomes.json").write_text(json.dumps(outcomes))
    mark_stale(settings.lists_dir, date(2025, 4, 11), ["input volume 5x the usual"])


def build_home(home: Path, routed: bool = False) -> Settings:
    """Store, lists, latest pointer (stale), a report and the four users, under `home`; `routed`: the lists
    assign who acts by the shipped routing table, each continuing the one before (as the daily run does)."""
    settings = Settings(home=home, horizon_days=30)
    warehouse = Warehouse(settings.warehouse_url)
    now = pd.Timestamp("2025-04-10 06:00")
    with warehouse.transaction() as connection:
        for kind, rows in (
            (RecordKind.CASES, _cases()),
            (RecordKind.CASE_EVENTS, _events()),
            (RecordKind.HOTLINE, _calls()),
        ):
            append(connection, INPUT_TABLES[kind], stored(kind, rows).assign(ingested_at=now))
        for account in USERS.values():
            add_account(connection, account.name, account.role, account.districts, PASSWORD)
    _publish(warehouse, settings, routed)
    _reports(settings)
    warehouse.engine.dispose()
    return settings


def _png() -> bytes:
    """A tiny valid PNG picture."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


class FakeRegistry:
    """The champion's run files, as `Registry.run_files` returns them."""

    def champion_version(self) -> str | None:
        return "3"

    def run_files(self, names: object, version: str | None = None) -> tuple[str, dict[str, bytes]]:
        fairness = {
            "columns": ["attribute", "group", "n", "status"],
            "data": [
                ["overall", "all", 9, "ok"],
                ["district", EAST, 5, "ok"],
                ["district", NORTH, 4, "flagged"],
            ],
        }
        return "fengqiao-escalation/v3", {
            "model_card.md": "# 模型说明书".encode(),
            "model_card.en.md": b"# Model card",
            "fengqiao_model.json": b'{"summary": {"model.precision_at_k": 0.4}}',
            "fairness.json": pd.io.json.ujson_dumps(fairness).encode(),
            "fairness.png": _png(),
            "calibration.png": _png(),
        }


def use_home(home: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the app at the home through FENGQIAO_* only (nothing else from the environment), run it from
    `folder`, with the model from a fake registry and no cached data."""
    import os

    import streamlit as st

    from dashboards.source import DataSource

    for name in list(os.environ):
        if name.startswith("FENGQIAO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FENGQIAO_HOME", str(home))
    monkeypatch.chdir(folder)
    monkeypatch.setattr(DataSource, "registry", lambda self: FakeRegistry())
    st.cache_data.clear()
