"""Shared fixtures: an isolated home folder, Prefect's harness, the trained home the flow tests share.

Builders (hand-made rows, the test key, ...) live in `tests/builders.py`."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from filelock import FileLock
from threadpoolctl import threadpool_limits

from contracts.settings import Settings
from tests.builders import POSTGRES_MARKED, TEST_KEY, TrainedHome, build_trained_home, copy_home


def pytest_configure(config: pytest.Config) -> None:
    """One OpenMP and BLAS thread in this process and those the tests start, unless OMP_NUM_THREADS says
    otherwise: the tests' fits are small, and on a busy 2-core machine threads wait for each other far
    longer than they work (the results are the same). The variable reaches new processes and libraries
    loaded later; those already loaded (NumPy's BLAS, and scikit-learn's OpenMP, which this file's imports
    load) are limited directly."""
    if "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = "1"
        threadpool_limits(limits=1)


FLOW_FIXTURES = frozenset({"prefect_harness", "trained_home"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a test that runs flows (it uses Prefect's server or the trained home) without the `slow`
    marker, so that `pytest -m "not slow"` stays fast."""
    unmarked = [
        item.nodeid
        for item in items
        if FLOW_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("slow") is None
    ]
    if unmarked:
        raise pytest.UsageError(f"flow tests without @pytest.mark.slow: {', '.join(unmarked)}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[object]:
    """A test marked `postgres` runs (set up, called and torn down) holding a lock on the shared test
    database, so that parallel workers (`pytest -n`) or runs never empty it under each other; only such a
    test may empty it (`tests.builders.empty_database` checks)."""
    marked = item.get_closest_marker("postgres") is not None
    POSTGRES_MARKED["current test"] = marked
    if not marked:
        return (yield)
    with FileLock(Path(tempfile.gettempdir()) / "fengqiao-test-postgres.lock"):
        return (yield)


@pytest.fixture(scope="session", autouse=True)
def _installed_packages_scanned_once() -> Iterator[None]:
    """Streamlit's app tests scan every installed package for components on each run (over a second with
    this project's dependencies); the packages do not change during the session, so the scan is made once."""
    with pytest.MonkeyPatch.context() as patch:
        if "streamlit" in sys.modules:  # an app test was collected
            with contextlib.suppress(ImportError):  # a Streamlit without that scan: nothing to keep
                from streamlit.components.v2 import manifest_scanner

                scan = functools.cache(manifest_scanner.scan_component_manifests)
                patch.setattr(manifest_scanner, "scan_component_manifests", scan)
        yield


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Prefect's temporary test server, started once for the whole session."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with a fresh home folder and a test key, nothing from the developer's environment."""
    for name in list(os.environ):
        if name.startswith("FENGQIAO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FENGQIAO_PSEUDONYM_KEY", TEST_KEY.decode())
    monkeypatch.chdir(tmp_path)
    return Settings(home=tmp_path / "home")


@pytest.fixture(scope="session")
def trained_home(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> TrainedHome:
    """The tiny city simulated, ingested, trained and listed once for the session; read it only
    (a test that changes a home takes `trained_copy`)."""
    return build_trained_home(tmp_path_factory.mktemp("trained") / "home")


@pytest.fixture
def trained_copy(trained_home: TrainedHome, tmp_path: Path) -> Settings:
    """The settings of a private copy of the trained home, for a test that changes it."""
    return copy_home(trained_home, tmp_path / "home")
