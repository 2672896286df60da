"""The whole product on a tiny simulated city: demo flow, rerun determinism, idempotent ingest, no leaks."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from contracts.records import LIST_COLUMNS, check_list
from contracts.routing import ROUTING_COLUMNS, check_routed
from contracts.settings import Settings
from contracts.timeparse import as_of_instant
from features import linked_activity
from features.call_linking import day_links
from features.cohort import DORMANT_DAYS, open_cases
from pipelines.demo_flow import INPUT_FILES
from pipelines.ingest_flow import ingest_flow
from pipelines.runtime import load_sources, open_warehouse
from pipelines.score_flow import score_flow
from tests.builders import TRAINED_KEY, TrainedHome
from warehouse import tables

pytestmark = pytest.mark.slow


def test_list_has_every_open_case_ranked_with_reasons(trained_home: TrainedHome) -> None:
    report, settings = trained_home.report, trained_home.settings
    listed = report.score.listed
    sources = load_sources(open_warehouse(settings))
    instant = as_of_instant(report.as_of)
    known = sources.known_before(instant)
    expected = open_cases(known, instant, DORMANT_DAYS)
    assert sorted(listed["case_id"]) == sorted(expected["case_id"])
    dormant = pd.read_parquet(settings.lists_dir / f"{report.as_of.isoformat()}.dormant.parquet")
    every_open = open_cases(known, instant)
    assert sorted([*listed["case_id"], *dormant["case_id"]]) == sorted(every_open["case_id"])
    assert report.score.manifest["dormant_cases"] == len(dormant) > 0
    assert list(listed.columns) == [*LIST_COLUMNS, *ROUTING_COLUMNS]
    check_list(listed[list(LIST_COLUMNS)])
    check_routed(listed)
    assert listed["rank"].tolist() == list(range(1, len(listed) + 1))
    assert (listed["reasons"].str.len() > 0).all()
    assert report.score.manifest["model_version"] == "fengqiao-escalation/v1"
    stored = pd.read_parquet(report.score.paths["parquet"])
    pd.testing.assert_frame_equal(stored, listed)


def test_accounting_holds_and_broken_rows_are_quarantined(trained_home: TrainedHome) -> None:
    report, settings = trained_home.report, trained_home.settings
    accounting = report.ingest.accounting
    parts = accounting[["accepted", "updated", "duplicates", "quarantined"]].sum(axis=1)
    assert (accounting["read"] == parts).all()
    warehouse = open_warehouse(settings)
    quarantined = warehouse.read_table(tables.quarantine)
    truth = pd.read_csv(report.data_dir / "truth" / "corruptions.csv")
    broken = truth[truth["kind_of_corruption"] != "duplicate"]
    found = set(zip(quarantined["source_file"], quarantined["row"], strict=True))
    missing = [
        (f, r) for f, r in zip(broken["file"], broken["row"], strict=True) if (Path(f).name, r) not in found
    ]
    assert missing == []
    assert (quarantined["reason"].str.len() > 10).all()


def test_rerun_gives_byte_identical_list_and_reingest_changes_nothing(
    trained_home: TrainedHome, trained_copy: Settings
) -> None:
    report, settings = trained_home.report, trained_copy
    before = {name: path.read_bytes() for name, path in report.score.paths.items() if name != "manifest"}
    again = ingest_flow([report.data_dir / f"{name}.csv" for name in INPUT_FILES], settings)
    assert again.accounting["accepted"].sum() == 0
    assert again.accounting["updated"].sum() == 0
    rescored = score_flow(report.as_of, settings)
    assert {name: rescored.paths[name].read_bytes() for name in before} == before


def test_no_raw_phone_or_id_number_leaves_ingest(trained_home: TrainedHome) -> None:
    report, settings = trained_home.report, trained_home.settings
    raw = "".join((report.data_dir / f"{name}.csv").read_text(encoding="utf-8") for name in INPUT_FILES)
    phones = {re.sub(r"\D", "", m)[-11:] for m in re.findall(r"(?:\+86[ -]?)?1[3-9]\d[\d -]{8,11}", raw)}
    ids = set(re.findall(r"\d{17}[\dX]", raw))
    assert len(phones) > 100 and len(ids) > 50
    outputs = [p for p in settings.home.rglob("*") if p.is_file() and report.data_dir not in p.parents]
    assert any(p.suffix == ".db" for p in outputs)
    for path in outputs:
        text = re.sub(rb"[\s-]", b"", path.read_bytes())
        leaked = [n for n in phones | ids if n.encode() in text]
        assert leaked == [], f"{path} holds raw personal numbers"
    logged = re.sub(r"[\s-]", "", "\n".join(trained_home.logs))
    assert len(trained_home.logs) > 10
    assert [n for n in phones | ids if n in logged] == []
    assert TRAINED_KEY not in logged


def test_the_days_call_links_and_grievances_are_stored_with_the_list(trained_home: TrainedHome) -> None:
    report, settings = trained_home.report, trained_home.settings
    warehouse = open_warehouse(settings)
    every = warehouse.read_table(tables.call_links)
    stored = every[every["as_of"] == report.as_of]
    expected = day_links(load_sources(warehouse), report.as_of, linked_activity.LINK_CONFIG)
    assert len(stored) == len(expected) > 0
    assert every["as_of"].max() == report.as_of  # earlier days': those training read, stored by it
    assert (
        stored.set_index("call_id")["case_id"].to_dict() == expected.set_index("call_id")["case_id"].to_dict()
    )
    assert (stored["confidence"] >= stored["threshold"]).all()
    assert (stored["evidence"].str.len() > 0).all()
    grievances = warehouse.read_table(tables.grievances)
    published = pd.read_parquet(settings.lists_dir / f"{report.as_of}.grievances.parquet")
    assert sorted(grievances["cluster_id"]) == sorted(published["cluster_id"])
    assert report.score.manifest["grievances"]["clusters"] == len(published)


def test_the_date_policy_logged_with_the_model_gives_its_dates_again(trained_home: TrainedHome) -> None:
    from dataclasses import asdict
    from datetime import date

    from features.known import cut
    from models.date_policy import DatePolicy, training_dates
    from pipelines.champions import champion
    from pipelines.configuration import date_policy

    settings = trained_home.settings
    meta = champion(settings).metadata
    logged = meta["date_policy"]
    policy = DatePolicy(**{name: logged[name] for name in asdict(date_policy(settings))})
    assert policy == date_policy(settings) and logged["as_of"] == meta["as_of"]
    as_of = date.fromisoformat(meta["as_of"])
    first_case = cut(load_sources(open_warehouse(settings)), as_of).cases["opened_at"].min().date()
    assert [d.isoformat() for d in training_dates(first_case, as_of, policy)] == meta["snapshot_dates"]
    assert [d for fold in logged["folds"] for d in fold["test"]] == meta["validation_dates"]
    assert logged["final_fit"] == meta["fit_dates"]
    assert logged["final_calibration"] == meta["calibration_dates"]


def test_every_trial_of_the_searches_is_logged_with_the_model(trained_home: TrainedHome) -> None:
    import json

    from pipelines.runtime import registry

    settings = trained_home.settings
    _, files = registry(settings).run_files(["search_trials.json"])
    logged = json.loads(files["search_trials.json"])
    trials = pd.DataFrame(logged["data"], columns=logged["columns"])
    numbers = trials.groupby("candidate")["trial"].agg(list)
    assert len(numbers["trees_tuned"]) == settings.tuning_trials
    assert all(found == list(range(1, len(found) + 1)) for found in numbers)
    assert trials.groupby("candidate")["chosen"].sum().eq(1).all()
    chosen = trials[trials["chosen"]].set_index("candidate")["value"]
    assert (trials.groupby("candidate")["value"].max() == chosen).all()
    assert trials["folds"].str.count(",").nunique() == 1  # every trial judged on the same folds
