"""A city whose exports carry only the contract's required columns still gets a list with reasons."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cities.demo import SimulationConfig, simulate_city
from contracts.records import LIST_COLUMNS, check_list
from contracts.settings import Settings
from pipelines.ingest_flow import ingest_flow
from pipelines.score_flow import score_flow
from pipelines.train_flow import train_flow

CONFIG = SimulationConfig(seed=11, n_cases=700, days=240, messiness=0.0)
REQUIRED = {
    "cases": ["case_id", "opened_at", "district", "category"],
    "case_events": ["case_id", "event_at", "event_type"],
    "hotline": ["call_id", "received_at", "district"],
}
RENAMED_DISTRICTS = {"东湖区": "甲区", "江北区": "乙区"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bare_city(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, list[Path]]:
    """The tiny demo city with every optional column dropped and two districts renamed."""
    folder = tmp_path_factory.mktemp("bare")
    city = simulate_city(CONFIG)
    paths = []
    for name, columns in REQUIRED.items():
        frame = (
            getattr(city, name)[columns].replace({"district": RENAMED_DISTRICTS})
            if "district" in columns
            else getattr(city, name)[columns]
        )
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False)
        paths.append(path)
    candidates = ("logistic_text", "logistic_foundation", "trees")
    return Settings(
        home=folder / "home", pseudonym_key="minimal-export-test-key-0123456789abcdef", candidates=candidates
    ), paths


def test_required_columns_alone_are_enough_to_train_and_list(bare_city: tuple[Settings, list[Path]]) -> None:
    settings, paths = bare_city
    report = ingest_flow(paths, settings)
    assert (report.accounting["read"] == report.accounting["accepted"]).all()
    as_of = CONFIG.start + pd.Timedelta(days=CONFIG.days).to_pytimedelta()
    trained = train_flow(as_of, settings)
    grid = trained.grid.set_index("candidate")
    assert grid["chosen"].sum() == 1
    assert grid.loc["logistic_text", "estimator"] == (
        "not fitted: the cases carry no text (descriptions, notes, linked calls) to weigh"
    )
    assert grid.loc[["logistic_foundation", "trees"], "precision_at_k"].notna().all()
    scored = score_flow(as_of, settings)
    check_list(scored.listed[list(LIST_COLUMNS)])
    assert len(scored.listed) > 0
    assert (scored.listed["reasons"].str.len() > 0).all()
    assert set(scored.listed["district"]) & set(RENAMED_DISTRICTS.values())
    assert scored.listed["town"].isna().all()
