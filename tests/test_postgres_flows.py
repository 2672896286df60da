"""The same flows on a PostgreSQL server, by configuration alone: the demo city end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cities.demo import SimulationConfig
from contracts.settings import Settings
from pipelines.daily_flow import daily_flow
from pipelines.demo_flow import demo_flow
from tests.builders import empty_postgres
from warehouse.lists import read_list
from warehouse.store import Warehouse

CONFIG = SimulationConfig(seed=3, n_cases=500, days=200, messiness=0.01)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_the_demo_runs_on_postgresql_and_its_list_is_in_the_server(
    prefect_harness: None, tmp_path: Path
) -> None:
    url = empty_postgres()
    settings = Settings(
        home=tmp_path / "home", warehouse_url=url, pseudonym_key="postgres-test-key-0123456789abcdef"
    )
    report = demo_flow(CONFIG, settings)
    stored = read_list(Warehouse(url), report.as_of)
    assert stored["case_id"].tolist() == report.score.listed["case_id"].tolist()
    pd.testing.assert_series_equal(
        stored["score"].reset_index(drop=True), report.score.listed["score"].astype(float), check_names=False
    )
    assert not (settings.home / "warehouse.db").exists()
    again = daily_flow(report.as_of, settings, use_inbox=False)
    assert again.status == "skipped"
