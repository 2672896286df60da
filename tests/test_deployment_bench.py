"""The deployment benchmark's bookkeeping: the dates it runs, and a command's time split by Prefect's log."""

from __future__ import annotations

from datetime import date, datetime
from itertools import pairwise

import pytest

from bench.deployment_bench import log_times, plan, split_times
from bench.summary import demo_end_to_end

TRAIN_LOG = """\
┏━━ rich table line that is not a log line
12:00:03.000 | INFO    | prefect - Starting temporary server on http://127.0.0.1:8123
12:00:09.500 | INFO    | prefect.engine - Created flow run 'red-fox' for flow 'train'
12:00:09.600 | INFO    | Flow run 'red-fox' - Beginning flow run 'red-fox' for flow 'train'
12:00:20.500 | INFO    | Flow run 'red-fox' - training matrix: 40 snapshots, 9000 rows, base rate 0.050
12:01:10.500 | INFO    | Flow run 'red-fox' - model grid (mean precision at the top over folds):
12:01:15.500 | INFO    | Flow run 'red-fox' - registered 1: promoted
12:01:16.000 | INFO    | Flow run 'red-fox' - Finished in state Completed()
12:01:16.500 | INFO    | prefect - Stopping temporary server on http://127.0.0.1:8123
"""


def test_a_command_is_split_by_its_log_lines() -> None:
    lines = log_times(TRAIN_LOG, datetime(2026, 1, 5, 12, 0, 0))
    timed = split_times("train --as-of 2026-01-01", 80.0, 0, lines)
    assert timed.start == pytest.approx(9.5)  # to the first flow-run line
    assert timed.server == pytest.approx(6.5)  # from the server's start line
    assert timed.work == pytest.approx(66.5)  # to the last line before the server stops
    assert timed.exit == pytest.approx(4.0)
    assert timed.stop == pytest.approx(3.5)
    assert timed.phases == pytest.approx({"matrix": 11.0, "grid": 50.0, "register": 5.0})


def test_with_a_lasting_server_no_server_time() -> None:
    log = "23:59:59.500 | INFO    | Flow run 'x' - Beginning flow run 'x' for flow 'score'\n"
    log += "00:00:02.500 | INFO    | Flow run 'x' - Finished in state Completed()\n"
    timed = split_times("score", 10.0, 0, log_times(log, datetime(2026, 1, 5, 23, 59, 58)))
    assert (timed.start, timed.server, timed.work, timed.stop) == pytest.approx((1.5, 0.0, 3.0, 0.0))


def test_a_command_without_a_flow_is_not_split() -> None:
    timed = split_times("ingest", 3.0, 1, log_times("error: key too short\n", datetime(2026, 1, 5)))
    assert (timed.wall, timed.exit_code, timed.start, timed.work) == (3.0, 1, None, None)


def test_seven_lists_fourteen_days_apart_ending_with_the_exports() -> None:
    trained, scored = plan(date(2025, 1, 1), 540)
    assert trained == date(2026, 4, 2)
    assert scored[0] == trained and scored[-1] == date(2026, 6, 25)
    assert {(b - a).days for a, b in pairwise(scored)} == {14}
    assert len(scored) == 7


def test_the_summary_shows_only_a_demo_sized_run() -> None:
    demo = {"cases": 20_000, "days": 540, "summary": {"total_s": 90.0}}
    assert demo_end_to_end(demo) == 90.0
    assert demo_end_to_end({**demo, "cases": 2_000}) is None
    assert demo_end_to_end(None) is None


def test_the_page_gives_the_machine_s_speed_when_measured() -> None:
    from bench.deployment_bench import _reference

    assert _reference({}) == ""
    assert "took 0.52 s on this machine" in _reference({"reference_s": 0.5234})
