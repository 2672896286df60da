"""A poisoned delivery never stops a day: it is filed under `failed/<date>/` with its reason, the good files
go in, the day publishes and the next day runs normally; when ingest itself raises, the day is held with
the reason, nothing it did not ingest is filed as done, and the next day publishes again."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pydantic import SecretStr

from cities.demo import SimulationConfig, simulate_city
from contracts.settings import Settings
from contracts.vocabulary import RecordKind
from pipelines import daily_flow as daily_module
from pipelines.daily_flow import DailyReport, daily_flow
from pipelines.ingest_flow import ingest_flow
from pipelines.rehearsal import drop, split_deliveries
from pipelines.runtime import KeyMismatchError, load_sources, open_warehouse
from pipelines.train_flow import train_flow
from warehouse.lists import read_pointer

# Busy enough (about 140 records a day) that four quarantined rows stay under the 5% quarantine ceiling.
CONFIG = SimulationConfig(seed=11, n_cases=1500, days=200, messiness=0.0)
DAYS = 4
FIRST = CONFIG.start + timedelta(days=CONFIG.days - DAYS)
POISON_LINES = [
    b'{"case_id": "P-INF", "opened_at": "2025-07-10", "district": "D", "category": "C", "amount": 1e400}',
    b'{"case_id": "P-9999", "opened_at": "9999-12-31T23:59:59Z", "district": "D", "category": "C"}',
    b"[1, 2, 3]",
    b"\xff\xfe\x00\x81 not text at all",
]


@pytest.fixture(scope="module")
def home(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, dict[date, dict[RecordKind, pd.DataFrame]]]:
    """A home loaded and trained up to FIRST, and the deliveries of the days from FIRST on."""
    settings = Settings(home=tmp_path_factory.mktemp("hostile") / "home", candidates=("logistic_foundation",))
    initial, daily = split_deliveries(simulate_city(CONFIG), FIRST, DAYS)
    ingest_flow(drop(initial, settings.home / "initial", "initial"), settings, allow_local_key=True)
    train_flow(FIRST, settings)
    return settings, daily


@pytest.fixture
def alerts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """The alerts the daily run sends, as (event, payload)."""
    sent: list[tuple[str, dict[str, Any]]] = []

    def record(_url: str | None, event: str, _as_of: str, payload: dict[str, Any]) -> None:
        sent.append((event, payload))

    monkeypatch.setattr(daily_module, "send_alert", record)
    return sent


def _run(settings: Settings, day: date, frames: dict[RecordKind, pd.DataFrame]) -> DailyReport:
    drop(frames, settings.inbox_dir, day.isoformat())
    return daily_flow(day, settings, allow_local_key=True)


def _filed(settings: Settings, folder: str, day: date) -> list[str]:
    path = settings.inbox_dir / folder / day.isoformat()
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


def _written_report(settings: Settings, day: date) -> dict[str, Any]:
    return json.loads((settings.reports_dir / f"{day.isoformat()}.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_a_poisoned_delivery_is_filed_with_its_reason_and_the_day_and_the_next_publish(
    home: tuple[Settings, dict], alerts: list
) -> None:
    settings, daily = home
    day, next_day = FIRST, FIRST + timedelta(days=1)
    poisoned = settings.inbox_dir / "cases-poison.jsonl"
    garbage = settings.inbox_dir / "hotline-garbage.xlsx"
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    poisoned.write_bytes(b"\n".join(POISON_LINES) + b"\n")
    garbage.write_bytes(b"PK\x03\x04 truncated, not a workbook \xff\x00")
    report = _run(settings, day, daily[day])
    assert report.status == "published", report.report.get("verdict")
    assert read_pointer(settings.lists_dir) == {
        "as_of": day.isoformat(),
        "model_version": "fengqiao-escalation/v1",
        "stale": False,
    }
    assert not [p for p in settings.inbox_dir.iterdir() if p.is_file()]
    failed = _filed(settings, "failed", day)
    assert "hotline-garbage.xlsx" in failed and "hotline-garbage.xlsx.reason.txt" in failed
    written = _written_report(settings, day)
    assert {r["file"] for r in written["refused"]} == {n for n in failed if not n.endswith(".reason.txt")}
    for refused in written["refused"]:
        reason = (
            settings.inbox_dir / "failed" / day.isoformat() / f"{refused['file']}.reason.txt"
        ).read_text()
        assert reason.strip() == refused["reason"] and refused["reason"]
    good = {f"{name}-{day.isoformat()}.csv" for name in ("cases", "case_events", "hotline")}
    assert good <= set(_filed(settings, "done", day))
    stored = load_sources(open_warehouse(settings))
    delivered = daily[day][RecordKind.HOTLINE]["call_id"]
    assert set(delivered) <= set(stored.hotline["call_id"])
    assert not stored.cases["case_id"].isin(["P-INF", "P-9999"]).any()
    assert written["status"] == "published" and written["dormant_cases"] == report.report["dormant_cases"]
    assert ("refused", {"refused": written["refused"], "ingest_error": written["ingest_error"]}) in alerts

    after = _run(settings, next_day, daily[next_day])
    assert after.status == "published", after.report.get("verdict")
    assert after.report["refused"] == [] and after.report["ingest_error"] is None
    assert read_pointer(settings.lists_dir)["as_of"] == next_day.isoformat()


@pytest.mark.slow
def test_when_ingest_raises_the_day_is_held_the_files_are_set_aside_and_the_next_day_publishes(
    home: tuple[Settings, dict], alerts: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, daily = home
    day, next_day = FIRST + timedelta(days=2), FIRST + timedelta(days=3)
    before = read_pointer(settings.lists_dir)

    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("ingest bug")

    monkeypatch.setattr(daily_module, "ingest_flow", explode)
    report = _run(settings, day, daily[day])
    monkeypatch.undo()
    assert report.status == "held"
    assert _filed(settings, "done", day) == []
    delivered = sorted(f"{name}-{day.isoformat()}.csv" for name in ("cases", "case_events", "hotline"))
    assert _filed(settings, "failed", day) == sorted([*delivered, *(f"{n}.reason.txt" for n in delivered)])
    written = _written_report(settings, day)
    assert written["ingest_error"]["error"] == "RuntimeError: ingest bug"
    assert written["ingest_error"]["ingested_alone"] == 0
    assert "nothing went in, so the list is held" in written["ingest_error"]["decision"]
    assert all(r["reason"] == "ingest raised: RuntimeError: ingest bug" for r in written["refused"])
    reasons = written["verdict"]["reasons"]
    assert reasons[0].startswith("No input today (volume 0)")
    assert reasons[-1].startswith("Ingest raised unexpectedly (RuntimeError: ingest bug)")
    pointer = read_pointer(settings.lists_dir)
    assert pointer == {**before, "stale": True, "held": {"as_of": day.isoformat(), "reasons": reasons}}
    assert {"held", "refused"} <= {event for event, _ in alerts}

    after = _run(settings, next_day, daily[next_day])
    assert after.status == "published", after.report.get("verdict")
    assert read_pointer(settings.lists_dir) == {
        "as_of": next_day.isoformat(),
        "model_version": "fengqiao-escalation/v1",
        "stale": False,
    }


@pytest.mark.slow
def test_a_run_that_fails_after_ingest_still_writes_its_report_and_marks_latest_stale(
    home: tuple[Settings, dict], alerts: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, _daily = home
    day = FIRST + timedelta(days=DAYS)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("registry unreachable")

    monkeypatch.setattr(daily_module, "champion", broken)
    with pytest.raises(RuntimeError, match="registry unreachable"):
        daily_flow(day, settings, use_inbox=False)
    written = _written_report(settings, day)
    assert written["status"] == "failed"
    assert written["error"] == "the daily run failed: RuntimeError: registry unreachable"
    assert read_pointer(settings.lists_dir)["held"] == {
        "as_of": day.isoformat(),
        "reasons": [written["error"]],
    }
    assert ("failed", {"error": "registry unreachable"}) in alerts


@pytest.mark.slow
def test_an_environmental_error_leaves_the_files_in_the_inbox(
    home: tuple[Settings, dict], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings, _daily = home
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "cases-x.csv").write_text("case_id\n")

    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(daily_module, "ingest_flow", disk_full)
    with pytest.raises(OSError, match="No space left"):
        daily_module.take_in([inbox / "cases-x.csv"], settings, allow_local_key=True)
    assert [p.name for p in inbox.iterdir()] == ["cases-x.csv"]


@pytest.mark.slow
def test_a_key_other_than_the_stores_leaves_the_files_in_the_inbox(
    home: tuple[Settings, dict], tmp_path: Path
) -> None:
    settings, _daily = home
    other = settings.model_copy(update={"pseudonym_key": SecretStr("another-key-0123456789abcdef0123456789")})
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "cases-x.csv").write_text("case_id,opened_at,district,category\nK1,2025-07-10,D,C\n")
    with pytest.raises(KeyMismatchError, match="pseudonymised with a different key"):
        daily_module.take_in([inbox / "cases-x.csv"], other, allow_local_key=True)
    assert [p.name for p in inbox.iterdir()] == ["cases-x.csv"]


def test_a_failure_after_publishing_keeps_the_published_list_fresh(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    report: dict[str, Any] = {"as_of": "2026-01-02", "status": "published"}
    daily_module.record_failure(report, RuntimeError("outcomes unreachable"), settings)
    written = _written_report(settings, date(2026, 1, 2))
    assert written["status"] == "published"
    assert written["error"] == "the daily run failed: RuntimeError: outcomes unreachable"
    assert not (settings.lists_dir / "latest.json").exists()  # nothing marked stale
