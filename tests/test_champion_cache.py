"""The champion's signed local copy: opened only when this deployment's key signed it, replaced when it is
not, and always the version the registry's alias points at."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from contracts.settings import Settings
from models.champion import Champion
from models.model_seal import MAGIC, cache_key, copy_name, seal, unseal
from models.registry import Registry
from pipelines.champions import KEPT_COPIES, cached_load, champion

KEY = cache_key(b"k" * 32)


def test_a_sealed_value_opens_only_under_its_key_and_unaltered() -> None:
    sealed = seal({"weights": [1.5, 2.5]}, KEY)
    assert sealed.startswith(MAGIC)
    assert unseal(sealed, KEY) == {"weights": [1.5, 2.5]}
    assert unseal(sealed, cache_key(b"j" * 32)) is None
    altered = bytearray(sealed)
    altered[-3] ^= 1
    assert unseal(bytes(altered), KEY) is None
    assert unseal(sealed[: len(MAGIC) + 10], KEY) is None
    assert unseal(b"not a copy at all, but long enough to pass the length check........", KEY) is None


def test_the_cache_key_is_derived_and_copy_names_change_with_version_run_and_runtime() -> None:
    assert cache_key(b"k" * 32) != b"k" * 32 and len(KEY) == 32
    names = {
        copy_name("sqlite:///a.db", "m", "1", "run", "py=3.11"),
        copy_name("sqlite:///a.db", "m", "2", "run", "py=3.11"),
        copy_name("sqlite:///a.db", "m", "1", "other", "py=3.11"),
        copy_name("sqlite:///a.db", "m", "1", "run", "py=3.12"),
        copy_name("sqlite:///b.db", "m", "1", "run", "py=3.11"),
    }
    assert len(names) == 5 and all(n.endswith(".model") for n in names)


def _fitted(seed: int) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    model = LogisticRegression().fit(x, (x["a"] + rng.normal(size=200) > 0).astype(int))
    return SimpleNamespace(model=model, summary={}, sample=x.head(5), rows=x)


def _register(place: Registry, fitted: SimpleNamespace) -> str:
    version, _ = place.log_model(
        fitted, fitted.sample, params={}, metadata={"features": ["a", "b"]}, figures={}, tables={}
    )
    place.promote(version)
    return version


@pytest.fixture
def place(tmp_path: Path) -> Registry:
    return Registry(f"sqlite:///{tmp_path / 'mlflow.db'}", tmp_path / "artifacts", "test", "escalation")


def test_a_loaded_champion_is_kept_and_later_served_without_the_registry_deserialising(
    place: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow.sklearn

    first = _fitted(1)
    _register(place, first)
    folder = tmp_path / "cache"
    loaded = cached_load(place, folder, KEY)
    copies = list(folder.glob("*.model"))
    assert len(copies) == 1 and copies[0].stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the registry deserialised the model again")

    with monkeypatch.context() as patched:
        patched.setattr(mlflow.sklearn, "load_model", refuse)
        again = cached_load(place, folder, KEY)
    assert isinstance(again, Champion)
    assert (again.version, again.run_id, again.metadata) == (loaded.version, loaded.run_id, loaded.metadata)
    np.testing.assert_array_equal(
        again.model.predict_proba(first.rows), loaded.model.predict_proba(first.rows)
    )

    second = _fitted(2)
    _register(place, second)
    moved = cached_load(place, folder, KEY)
    assert moved.version == "escalation/v2"
    np.testing.assert_array_equal(
        moved.model.predict_proba(second.rows), second.model.predict_proba(second.rows)
    )
    assert len(list(folder.glob("*.model"))) == 2
    place.rollback()
    with monkeypatch.context() as patched:
        patched.setattr(mlflow.sklearn, "load_model", refuse)
        assert cached_load(place, folder, KEY).version == "escalation/v1"


def test_a_copy_signed_by_another_key_or_altered_is_replaced_from_the_registry(
    place: Registry, tmp_path: Path
) -> None:
    fitted = _fitted(3)
    _register(place, fitted)
    folder = tmp_path / "cache"
    cached_load(place, folder, cache_key(b"o" * 32))
    (copy,) = folder.glob("*.model")
    planted = seal(Champion("not the model", "escalation/v1", "run", {}), cache_key(b"o" * 32))
    copy.write_bytes(planted)
    served = cached_load(place, folder, KEY)
    assert served.model != "not the model"
    np.testing.assert_array_equal(
        served.model.predict_proba(fitted.rows), fitted.model.predict_proba(fitted.rows)
    )
    assert unseal(copy.read_bytes(), KEY) is not None
    copy.write_bytes(copy.read_bytes()[:-10])
    assert cached_load(place, folder, KEY).run_id == served.run_id


def test_only_the_newest_copies_are_kept(place: Registry, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    for seed in range(KEPT_COPIES + 1):
        _register(place, _fitted(seed))
        cached_load(place, folder, KEY)
    assert len(list(folder.glob("*.model"))) == KEPT_COPIES


def test_the_champion_task_keeps_a_copy_only_where_a_key_exists(place: Registry, tmp_path: Path) -> None:
    _register(place, _fitted(4))
    where = {"mlflow_tracking_uri": place.tracking_uri, "model_name": "escalation", "experiment_name": "test"}
    keyless = Settings(home=tmp_path / "keyless", pseudonym_key=None, **where)
    assert champion.fn(keyless).version == "escalation/v1"
    assert not keyless.model_cache_dir.exists()
    keyed = Settings(home=tmp_path / "keyed", pseudonym_key="s" * 32, **where)
    assert champion.fn(keyed).version == "escalation/v1"
    assert len(list(keyed.model_cache_dir.glob("*.model"))) == 1


def test_an_unchanged_local_registry_is_not_asked_again_and_a_changed_one_is(
    place: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The memo of which version the alias named serves the next load while the registry's files are
    unchanged (MLflow not called); a promotion changes them, and the new champion is loaded."""
    from pipelines import champions

    _register(place, _fitted(5))
    where = {"mlflow_tracking_uri": place.tracking_uri, "model_name": "escalation", "experiment_name": "test"}
    settings = Settings(home=tmp_path / "home", pseudonym_key="s" * 32, **where)
    first = champion.fn(settings)
    assert (settings.model_cache_dir / champions.MEMO_NAME).exists()

    def refuse(_: Settings) -> None:
        raise AssertionError("the registry was asked")

    with monkeypatch.context() as patched:
        patched.setattr(champions, "registry", refuse)
        again = champion.fn(settings)
    assert (again.version, again.run_id) == (first.version, first.run_id)
    _register(place, _fitted(6))  # a new champion: the registry's files change
    assert champion.fn(settings).version == "escalation/v2"
    with monkeypatch.context() as patched:
        patched.setattr(champions, "registry", refuse)
        assert champion.fn(settings).version == "escalation/v2"


def test_the_memo_needs_a_local_registry_and_its_own_signature(place: Registry, tmp_path: Path) -> None:
    """A registry on a server has no state to compare (always asked); a memo signed by another key, or
    naming another registry, is not taken."""
    from pipelines import champions

    assert champions.registry_state("http://mlflow:5000") is None
    assert champions.registry_state(f"sqlite:///{tmp_path / 'absent.db'}") is None
    _register(place, _fitted(7))
    where = {"mlflow_tracking_uri": place.tracking_uri, "model_name": "escalation", "experiment_name": "test"}
    settings = Settings(home=tmp_path / "home", pseudonym_key="s" * 32, **where)
    champion.fn(settings)
    key = cache_key(b"s" * 32)
    assert champions.remembered_champion(settings, key) is not None
    assert champions.remembered_champion(settings, cache_key(b"t" * 32)) is None
    assert champions.remembered_champion(settings.model_copy(update={"model_name": "other"}), key) is None


def test_a_copy_names_the_champion_class_that_imports_no_mlflow() -> None:
    """Unpickling a copy imports the class it was sealed with: `models.champion`, which imports no MLflow."""
    import subprocess
    import sys

    assert b"models.champion" in seal(Champion(None, "m/v1", "run", {}), KEY)
    check = "import sys, models.champion; assert 'mlflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", check], check=True)


def test_the_copy_training_keeps_is_the_registry_s_and_the_next_load_asks_no_registry(
    place: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy a training run keeps of the version it registered holds what loading that version from the
    registry gives (model, label, run, metadata as JSON); once promoted and remembered, a load asks no
    registry."""
    from pipelines import champions

    fitted = _fitted(8)
    metadata = {"features": ["a", "b"], "horizon_days": 30, "dates": ("2025-01-01",), "rate": float("nan")}
    number, run_id = place.log_model(
        fitted, fitted.sample, params={}, metadata=metadata, figures={}, tables={}
    )
    where = {"mlflow_tracking_uri": place.tracking_uri, "model_name": "escalation", "experiment_name": "test"}
    settings = Settings(home=tmp_path / "home", pseudonym_key="s" * 32, **where)
    champions.keep_registered(settings, fitted.model, number, run_id, metadata)
    place.promote(number)
    champions.remember_champion(settings)

    def refuse(_: Settings) -> None:
        raise AssertionError("the registry was asked")

    with monkeypatch.context() as patched:
        patched.setattr(champions, "registry", refuse)
        kept = champion.fn(settings)
    loaded = place.load(number)
    assert (kept.version, kept.run_id) == (loaded.version, loaded.run_id) == ("escalation/v1", run_id)
    assert json.dumps(kept.metadata, sort_keys=True) == json.dumps(loaded.metadata, sort_keys=True)
    np.testing.assert_array_equal(
        kept.model.predict_proba(fitted.rows), loaded.model.predict_proba(fitted.rows)
    )


def test_a_rollback_that_moves_only_the_alias_is_followed(place: Registry, tmp_path: Path) -> None:
    """Moving the alias back rewrites a page in place (the file's size unchanged): the database's change
    counter still tells the memo is old."""
    from pipelines import champions

    _register(place, _fitted(9))
    _register(place, _fitted(10))
    where = {"mlflow_tracking_uri": place.tracking_uri, "model_name": "escalation", "experiment_name": "test"}
    settings = Settings(home=tmp_path / "home", pseudonym_key="s" * 32, **where)
    assert champion.fn(settings).version == "escalation/v2"
    before = champions.registry_state(place.tracking_uri)
    place.rollback()
    after = champions.registry_state(place.tracking_uri)
    assert before is not None and after is not None and before.counter != after.counter
    assert champion.fn(settings).version == "escalation/v1"


def test_a_registry_with_a_wal_is_remembered_only_once_its_files_have_settled() -> None:
    """With a WAL a write need not change the database's counter: a state read within RACY_SECONDS of the
    files' last change is not trusted (a coarse clock could hide the next write), an older one is."""
    from pipelines.champions import RACY_SECONDS, RegistryState

    changed = 1_000_000_000.0
    files = ((1, 4096, int(changed * 1e9), 0), (2, 8192, int(changed * 1e9), 0), (0, 0, 0, 0))
    assert not RegistryState(files, b"\0\0\0\1", b"wal header", changed + 0.5).trusted
    assert RegistryState(files, b"\0\0\0\1", b"wal header", changed + RACY_SECONDS).trusted
    assert RegistryState(files, b"\0\0\0\1", b"", changed).trusted  # no WAL: the counter counts every write


def test_the_registry_is_warmed_beside_other_work_and_a_failure_is_left_to_its_next_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import sys

    from pipelines import runtime

    settings = Settings(home=tmp_path / "home")
    runtime.registry_warming(settings)()
    assert (settings.home / "mlflow.db").exists()  # the home's new registry database, created
    assert {"mlflow.sklearn", "skops.io"} <= set(sys.modules)

    def broken(_: Settings) -> Registry:
        raise RuntimeError("the registry cannot be reached")

    monkeypatch.setattr(runtime, "registry", broken)
    with caplog.at_level("DEBUG", logger="pipelines.runtime"):
        runtime.registry_warming(settings)()  # returns: the registry's next use says what is wrong
    assert "warming the registry failed: the registry cannot be reached" in caplog.text
