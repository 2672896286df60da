"""Daily operations on a tiny simulated city: deliveries, a drifted stretch held, reruns, kills, alerts."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from pydantic import SecretStr

from cities.demo import SimulationConfig
from contracts.records import LIST_COLUMNS
from contracts.settings import Settings
from features.grievances import empty_clusters
from models.drift import drift_table, reference_profile
from pipelines.alerts import send_alert
from pipelines.daily_flow import DailyReport, backfill_flow, daily_flow, finish_skipped
from pipelines.grievance_flow import published_grievances
from pipelines.rehearsal import RehearsalPlan, rehearsal_flow
from pipelines.serve import deployments
from warehouse import atomic_files
from warehouse import lists as publishing
from warehouse.lists import publish_day, read_latest, read_pointer
from warehouse.store import Warehouse

CONFIG = SimulationConfig(seed=5, n_cases=700, days=240, messiness=0.0)
PLAN = RehearsalPlan(days=9, drift_start_day=5, drift_days=3, drift_factor=5)
FIRST = CONFIG.start + timedelta(days=CONFIG.days - PLAN.days)


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return


@pytest.fixture(scope="module")
def webhook() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


@pytest.fixture(scope="module")
def rehearsed(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory, webhook: str
) -> tuple[list[DailyReport], Settings]:
    home = tmp_path_factory.mktemp("daily") / "home"
    settings = Settings(home=home, alert_webhook_url=webhook, candidates=("logistic_foundation",))
    return rehearsal_flow(CONFIG, PLAN, settings), settings


@pytest.mark.slow
def test_the_drifted_stretch_is_held_and_the_last_good_list_stays_marked_stale(
    rehearsed: tuple[list[DailyReport], Settings],
) -> None:
    reports, settings = rehearsed
    statuses = {r.as_of: r.status for r in reports}
    drifted = [FIRST + timedelta(days=PLAN.drift_start_day + i) for i in range(PLAN.drift_days)]
    assert all(statuses[d] == "held" for d in drifted)
    before = [d for d in statuses if d < drifted[0]]
    assert all(statuses[d] == "published" for d in before[1:])
    held = next(r for r in reports if r.as_of == drifted[0])
    assert any("Input volume" in reason for reason in held.report["verdict"]["reasons"])
    pointer = read_pointer(settings.lists_dir)
    last_published = max(d for d, s in statuses.items() if s == "published")
    assert pointer is not None and pointer["as_of"] == last_published.isoformat()
    assert pointer["stale"] is (statuses[max(statuses)] == "held")
    assert not (settings.lists_dir / f"{drifted[0].isoformat()}.parquet").exists()
    report = json.loads((settings.reports_dir / f"{drifted[0].isoformat()}.json").read_text())
    assert report["status"] == "held" and report["model_version"] == "fengqiao-escalation/v1"
    assert sum(f["read"] for f in report["ingest"]) > 0
    assert {"held"} <= {m["event"] for m in _Receiver.received}
    assert all(m["source"] == "fengqiao" for m in _Receiver.received)


@pytest.mark.slow
def test_deliveries_are_filed_away_and_accounted(rehearsed: tuple[list[DailyReport], Settings]) -> None:
    reports, settings = rehearsed
    assert [p.name for p in settings.inbox_dir.iterdir() if p.is_file()] == []
    done = sorted((settings.inbox_dir / "done").iterdir())
    assert [p.name for p in done] == [r.as_of.isoformat() for r in reports if r.report["ingest"]]
    for r in reports:
        for row in r.report["ingest"]:
            assert row["read"] == row["accepted"] + row["updated"] + row["duplicates"] + row["quarantined"]


@pytest.mark.slow
def test_a_day_runs_once_and_a_rerun_gives_the_same_bytes(
    rehearsed: tuple[list[DailyReport], Settings],
) -> None:
    reports, settings = rehearsed
    day = next(r.as_of for r in reports if r.status == "published" and r.as_of > FIRST)
    again = daily_flow(day, settings, use_inbox=False)
    assert again.status == "skipped"
    files = {suffix: settings.lists_dir / f"{day.isoformat()}.{suffix}" for suffix in ("parquet", "csv")}
    before = {suffix: path.read_bytes() for suffix, path in files.items()}
    (settings.lists_dir / f"{day.isoformat()}.manifest.json").unlink()
    [rerun] = backfill_flow(day, day, settings)
    assert rerun.status == "published"
    assert {suffix: path.read_bytes() for suffix, path in files.items()} == before
    assert (
        read_pointer(settings.lists_dir)["as_of"] != day.isoformat()
    )  # an old day never moves `latest` back


@pytest.mark.slow
def test_the_daily_flow_rerun_of_a_day_killed_before_its_pointer_moves_latest_and_writes_the_report(
    rehearsed: tuple[list[DailyReport], Settings],
) -> None:
    reports, settings = rehearsed
    published = [r for r in reports if r.status == "published"]
    day, before = published[-1], published[-2]
    pointer_path = settings.lists_dir / "latest.json"
    report_path = settings.reports_dir / f"{day.as_of.isoformat()}.json"
    saved = pointer_path.read_bytes(), report_path.read_bytes()
    try:  # what a run killed between the manifest and the pointer leaves: latest on the day before, no report
        stuck = {
            "as_of": before.as_of.isoformat(),
            "model_version": before.report["model_version"],
            "stale": False,
        }
        pointer_path.write_text(json.dumps(stuck), encoding="utf-8")
        report_path.unlink()
        again = daily_flow(day.as_of, settings, use_inbox=False)
        assert again.status == "skipped"
        model = day.report["model_version"]
        assert read_pointer(settings.lists_dir) == {
            "as_of": day.as_of.isoformat(),
            "model_version": model,
            "stale": False,
        }
        written = json.loads(report_path.read_text(encoding="utf-8"))
        assert (written["status"], written["latest_moved"], written["model_version"]) == (
            "skipped",
            True,
            model,
        )
    finally:
        pointer_path.write_bytes(saved[0])
        report_path.write_bytes(saved[1])


def _listed(as_of: date, score: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rank": [1],
            "case_id": ["A"],
            "district": ["东湖区"],
            "town": [None],
            "category": ["劳资纠纷"],
            "opened_at": pd.to_datetime(["2025-01-01 09:00"]).astype("datetime64[us]"),
            "score": [score],
            "band": ["high"],
            "reasons": ["近7天关联热线来电3次"],
            "model_version": "m/v1",
            "as_of": as_of,
        }
    )[list(LIST_COLUMNS)]


def _manifest(as_of: date) -> dict:
    return {"as_of": as_of.isoformat(), "model_version": "m/v1"}


KILL_POINTS = (
    "parquet mid-write",
    "csv rename",
    "grievances rename",
    "store transaction",
    "manifest rename",
    "latest pointer",
)
NO_GRIEVANCES = published_grievances(empty_clusters())


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_run_killed_at_any_step_leaves_readers_the_previous_complete_list(
    point: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    lists = tmp_path / "lists"
    old_day, new_day = date(2025, 3, 1), date(2025, 3, 2)
    publish_day(_listed(old_day, 0.3), _manifest(old_day), lists, warehouse, NO_GRIEVANCES)
    calls = {"replace": 0, "fsync": 0}
    real_replace, real_fsync = os.replace, os.fsync
    crash_at = {"csv rename": 2, "grievances rename": 4, "manifest rename": 5, "latest pointer": 6}

    def replace(source: str, target: str) -> None:
        calls["replace"] += 1
        if calls["replace"] == crash_at.get(point):
            raise KeyboardInterrupt(f"killed at {point}")
        real_replace(source, target)

    def fsync(descriptor: int) -> None:
        calls["fsync"] += 1
        if point == "parquet mid-write" and calls["fsync"] == 1:
            raise KeyboardInterrupt("killed mid-write")
        real_fsync(descriptor)

    def replace_list(*_args: object) -> None:
        raise KeyboardInterrupt("killed in the store transaction")

    monkeypatch.setattr(atomic_files.os, "replace", replace)
    monkeypatch.setattr(atomic_files.os, "fsync", fsync)
    if point == "store transaction":
        monkeypatch.setattr(publishing, "replace_list", replace_list)
    with pytest.raises(KeyboardInterrupt):
        publish_day(_listed(new_day, 0.4), _manifest(new_day), lists, warehouse, NO_GRIEVANCES)
    pointer, shown = read_latest(lists)
    assert pointer["as_of"] == old_day.isoformat()
    pd.testing.assert_frame_equal(shown, _listed(old_day, 0.3))
    monkeypatch.undo()
    publish_day(_listed(new_day, 0.4), _manifest(new_day), lists, warehouse, NO_GRIEVANCES)
    pointer, shown = read_latest(lists)
    assert pointer["as_of"] == new_day.isoformat()
    pd.testing.assert_frame_equal(shown, _listed(new_day, 0.4))
    assert not [p for p in lists.iterdir() if p.name.endswith(".tmp")]


def test_a_rerun_after_a_kill_between_manifest_and_pointer_moves_latest_and_writes_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(home=tmp_path / "home")
    lists = settings.lists_dir
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    old_day, new_day = date(2025, 3, 1), date(2025, 3, 2)
    publish_day(_listed(old_day, 0.3), _manifest(old_day), lists, warehouse, NO_GRIEVANCES)
    calls = {"replace": 0}
    real_replace = os.replace

    def replace(source: str, target: str) -> None:
        calls["replace"] += 1
        if calls["replace"] == 6:  # the manifest is in place; the pointer's rename is next
            raise KeyboardInterrupt("killed at the latest pointer")
        real_replace(source, target)

    monkeypatch.setattr(atomic_files.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        publish_day(_listed(new_day, 0.4), _manifest(new_day), lists, warehouse, NO_GRIEVANCES)
    monkeypatch.undo()
    assert (lists / f"{new_day.isoformat()}.manifest.json").exists()
    assert read_pointer(lists)["as_of"] == old_day.isoformat()

    rerun = finish_skipped(new_day, "m/v1", {"as_of": new_day.isoformat()}, settings)
    pointer, shown = read_latest(lists)
    assert pointer == {"as_of": new_day.isoformat(), "model_version": "m/v1", "stale": False}
    pd.testing.assert_frame_equal(shown, _listed(new_day, 0.4))
    written = json.loads(rerun.path.read_text(encoding="utf-8"))
    assert (rerun.status, written["status"], written["latest_moved"]) == ("skipped", "skipped", True)
    assert written["latest"] == pointer
    again = finish_skipped(new_day, "m/v1", {"as_of": new_day.isoformat()}, settings)
    assert again.report["latest_moved"] is False and read_pointer(lists) == pointer


def test_a_plain_rerun_keeps_the_published_report_and_a_held_mark(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    lists = settings.lists_dir
    warehouse = Warehouse(f"sqlite:///{tmp_path / 'w.db'}")
    day = date(2025, 3, 1)
    publish_day(_listed(day, 0.3), _manifest(day), lists, warehouse, NO_GRIEVANCES)
    publishing.mark_stale(lists, day, ["a later run of the day was held"])
    stale = read_pointer(lists)
    settings.reports_dir.mkdir(parents=True)
    published = {"as_of": day.isoformat(), "status": "published", "model_version": "m/v1", "drift": [1]}
    report_path = settings.reports_dir / f"{day.isoformat()}.json"
    report_path.write_text(json.dumps(published), encoding="utf-8")
    rerun = finish_skipped(day, "m/v1", {"as_of": day.isoformat()}, settings)
    assert rerun.status == "skipped" and rerun.report["latest_moved"] is False
    assert read_pointer(lists) == stale and stale["stale"] is True
    assert json.loads(report_path.read_text(encoding="utf-8")) == published


def test_the_detector_flags_a_shifted_feature_and_not_a_resample_in_repeated_trials() -> None:
    flagged, quiet = 0, 0
    for trial in range(20):
        rng = np.random.default_rng(trial)
        reference = pd.DataFrame({"calls": rng.poisson(2.0, 5000), "amount": rng.lognormal(9, 1, 5000)})
        profile = reference_profile(reference, {"calls": "numeric", "amount": "numeric"})
        shifted = pd.DataFrame({"calls": rng.poisson(3.5, 3000), "amount": rng.lognormal(9, 1, 3000)})
        resample = pd.DataFrame({"calls": rng.poisson(2.0, 3000), "amount": rng.lognormal(9, 1, 3000)})
        flagged += drift_table(profile, shifted).set_index("column").loc["calls", "status"] == "alert"
        quiet += (drift_table(profile, resample)["status"] == "ok").all()
    assert (flagged, quiet) == (20, 20)


def test_an_unreachable_webhook_never_fails_a_run() -> None:
    assert send_alert("", "held", "2025-03-01", {}) is False
    assert send_alert(None, "held", "2025-03-01", {}) is False
    assert send_alert("http://127.0.0.1:9/nothing-listens", "held", "2025-03-01", {}) is False


class _Refuser(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(403)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return


def test_a_failed_alert_logs_the_webhook_host_never_its_token(caplog: pytest.LogCaptureFixture) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Refuser)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_port
    try:
        with caplog.at_level("WARNING", logger="pipelines.alerts"):
            refused = SecretStr(f"http://127.0.0.1:{port}/robot/send?access_token=SECRET-TOKEN")
            assert send_alert(refused, "held", "2025-03-01", {}) is False
            assert (
                send_alert("http://127.0.0.1:9/robot/send?access_token=SECRET-TOKEN", "held", "x", {})
                is False
            )
    finally:
        server.shutdown()
    logged = [r.getMessage() for r in caplog.records if r.name == "pipelines.alerts"]
    assert len(logged) == 2
    assert not any("SECRET-TOKEN" in m or "/robot/send" in m for m in logged)
    assert f"could not be sent to http://127.0.0.1:{port}: HTTPStatusError:" in logged[0]
    assert "403" in logged[0]
    assert "could not be sent to http://127.0.0.1:9: ConnectError:" in logged[1]


def test_schedules_are_daily_at_six_and_weekly_in_shanghai_one_run_at_a_time() -> None:
    daily, retrain = deployments(Settings(home=Path("/tmp/unused")))
    assert (daily.name, retrain.name) == ("daily", "weekly-retrain")
    assert daily.schedules[0].schedule.cron == "0 6 * * *"
    assert daily.schedules[0].schedule.timezone == "Asia/Shanghai"
    assert retrain.schedules[0].schedule.cron == "0 5 * * 1"
    assert daily.concurrency_limit == 1 and retrain.concurrency_limit == 1


def test_realised_quality_of_a_past_list_by_hand() -> None:
    from models.outcomes import realised_quality

    listed = pd.DataFrame({"case_id": ["a", "b", "c", "d"], "score": [0.8, 0.4, 0.2, 0.1]})
    labels = pd.Series([1, 0, 1], index=["a", "c", "d"])
    quality = realised_quality(listed, labels, top_fraction=0.5)
    assert quality["k"] == 2
    assert quality["precision_at_k"] == 0.5
    assert quality["recall_at_k"] == 0.5
    assert quality["observed_rate"] == 0.5
    assert quality["mean_score"] == pytest.approx(0.375)


def test_served_runs_get_every_setting_but_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = Settings(
        home=Path("/tmp/served"), horizon_days=60, escalation_events=("violence",), pseudonym_key="k"
    )
    environment = chosen.environment()
    assert "FENGQIAO_PSEUDONYM_KEY" not in environment
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FENGQIAO_PSEUDONYM_KEY", "k")
    assert Settings() == chosen


def test_a_champion_for_another_horizon_or_other_events_is_not_used() -> None:
    from pipelines.champions import predicts_configured_target

    settings = Settings(home=Path("/tmp/unused"))
    events = [str(t) for t in settings.escalation_events]
    assert predicts_configured_target({"horizon_days": 30, "escalation_events": events}, settings)
    assert not predicts_configured_target({"horizon_days": 60, "escalation_events": events}, settings)
    assert not predicts_configured_target({"horizon_days": 30, "escalation_events": events[:1]}, settings)
    assert not predicts_configured_target({}, settings)


def test_past_lists_get_their_realised_precision_and_late_escalations_still_count(tmp_path: Path) -> None:
    from features.known import cut
    from pipelines.daily_flow import update_outcomes
    from tests.builders import case_row, event_row, make_sources

    settings = Settings(home=tmp_path / "home", list_top_fraction=0.5)
    warehouse = Warehouse(settings.warehouse_url)
    listed_on = date(2025, 3, 1)
    two = pd.concat([_listed(listed_on, 0.4), _listed(listed_on, 0.1).assign(case_id="B", rank=2)])
    publish_day(
        two.reset_index(drop=True), _manifest(listed_on), settings.lists_dir, warehouse, NO_GRIEVANCES
    )
    cases = [case_row("A", "2025-02-01"), case_row("B", "2025-02-01")]
    quiet = make_sources(cases, [], [])
    late = make_sources(cases, [event_row("A", "2025-03-10", "violence", recorded_at="2025-04-05")], [])
    assert update_outcomes.fn(cut(quiet, date(2025, 3, 30)), settings).empty  # its 30 days have not passed
    first = update_outcomes.fn(cut(quiet, date(2025, 4, 1)), settings)
    assert first[["as_of", "precision_at_k", "positives"]].to_dict("records") == [
        {"as_of": "2025-03-01", "precision_at_k": 0.0, "positives": 0.0}
    ]
    again = update_outcomes.fn(cut(late, date(2025, 4, 6)), settings)
    assert again[["as_of", "precision_at_k", "recall_at_k", "positives"]].to_dict("records") == [
        {"as_of": "2025-03-01", "precision_at_k": 1.0, "recall_at_k": 1.0, "positives": 1.0}
    ]
    assert json.loads((settings.reports_dir / "outcomes.json").read_text())[0]["precision_at_k"] == 1.0
