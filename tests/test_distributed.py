"""Training snapshots built on a Dask cluster give the same model and the same published list."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from prefect import flow, task

from contracts.settings import Settings
from pipelines.demo_flow import demo_flow
from pipelines.runners import parts_of, run_tasks
from tests.builders import TRAINED_CITY, TrainedHome, trained_settings


@pytest.mark.parametrize(
    ("runner", "parts", "expected"),
    [
        ("local", 3, [[1, 2, 3, 4, 5, 6, 7]]),
        ("dask", 3, [[1, 2, 3], [4, 5], [6, 7]]),
        ("dask", 2, [[1, 2, 3, 4], [5, 6, 7]]),
        ("dask", 9, [[1], [2], [3], [4], [5], [6], [7]]),
    ],
)
def test_dates_are_cut_into_consecutive_parts_in_order(
    runner: str, parts: int, expected: list[list[int]], tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path, task_runner=runner, dask_parts=parts)
    assert parts_of([1, 2, 3, 4, 5, 6, 7], settings) == expected


def test_no_dates_make_one_empty_part(tmp_path: Path) -> None:
    assert parts_of([], Settings(home=tmp_path, task_runner="dask")) == [[]]


@pytest.mark.slow
def test_a_dask_cluster_and_this_process_publish_identical_lists(
    trained_home: TrainedHome, tmp_path: Path
) -> None:
    local, embedded = trained_home.report, trained_home.settings  # the same city, run in this process
    distributed = trained_settings(tmp_path / "distributed", task_runner="dask", dask_parts=2)
    spread = demo_flow(TRAINED_CITY, distributed)

    assert spread.train.n_snapshots == local.train.n_snapshots > 2
    assert spread.train.n_rows == local.train.n_rows
    pd.testing.assert_frame_equal(spread.train.grid, local.train.grid)
    assert spread.train.summary == local.train.summary
    for suffix in ("parquet", "csv"):
        name = f"{local.as_of}.{suffix}"
        published = (distributed.lists_dir / name).read_bytes()
        assert published == (embedded.lists_dir / name).read_bytes()
    assert len(local.score.listed) > 0


@task
def _half(x: int) -> float:
    return x / 2


def test_dask_parts_are_refused_from_inside_a_task(tmp_path: Path) -> None:
    """Prefect sends the running task's context, its inputs included, with every task submitted to Dask:
    parts fanned out from inside a task would each carry them, so `run_tasks` refuses before any cluster
    starts; from the flow itself they run."""
    settings = Settings(home=tmp_path, task_runner="dask", dask_parts=1)

    @task
    def inside() -> list[float]:
        return list(run_tasks(_half, [{"x": 1}], settings))

    @flow
    def from_a_task() -> list[float]:
        return inside()

    @flow
    def from_the_flow() -> list[float]:
        return list(run_tasks(_half, [{"x": 1}, {"x": 3}], settings))

    with pytest.raises(RuntimeError, match="not from inside a task"):
        from_a_task()
    assert from_the_flow() == [0.5, 1.5]
