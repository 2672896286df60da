"""The layering of docs/architecture.md, enforced with import-linter; nothing happens at import time."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMPORT_ALL = (
    "import importlib, pkgutil, os\n"
    "for pkg in ('contracts','warehouse','ingest','features','models','pipelines','dashboards'):\n"
    "    mod = importlib.import_module(pkg)\n"
    "    for info in pkgutil.walk_packages(mod.__path__, pkg + '.'):\n"
    "        importlib.import_module(info.name)\n"
    "print(sorted(os.listdir('.')))\n"
)


def test_import_contracts_hold() -> None:
    command = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([command], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.slow
def test_nothing_is_built_at_import_time(tmp_path: Path) -> None:
    """Importing every module creates no home folder, store or MLflow database in the working folder."""
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(home)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_feature_dictionary_page_is_current() -> None:
    """docs/feature-dictionary.md is what `fengqiao dictionary` writes for the features built now."""
    from features.dictionary import dictionary_markdown
    from features.matrix import ALL_FAMILIES, feature_docs

    page = (ROOT / "docs" / "feature-dictionary.md").read_text(encoding="utf-8")
    expected = dictionary_markdown(feature_docs(ALL_FAMILIES))
    assert page == expected, "run `fengqiao dictionary` and commit the page"
