"""The layering of docs/architecture.md, enforced with import-linter; nothing happens at import time."""

from __future__ import annotations

import ast
import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from prefect import Flow

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


def _pipelines_imports() -> list[tuple[str, str, str]]:
    """(importing module, imported pipelines module, name) for every `from pipelines.X import name` in
    pipelines/, at any depth."""
    found = []
    for path in sorted((ROOT / "pipelines").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pipelines."):
                found += [(path.stem, node.module.removeprefix("pipelines."), a.name) for a in node.names]
    return found


def _flow_modules() -> dict[str, set[str]]:
    """Each pipelines module defining a Prefect flow, with its declared public names (`__all__`)."""
    flows = {}
    for path in sorted((ROOT / "pipelines").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defines_flow = any(
            isinstance(node, ast.FunctionDef)
            and any(
                isinstance(d, ast.Call) and getattr(d.func, "id", "") == "flow" for d in node.decorator_list
            )
            for node in tree.body
        )
        if defines_flow:
            public = [
                ast.literal_eval(node.value)
                for node in tree.body
                if isinstance(node, ast.Assign)
                and [getattr(t, "id", "") for t in node.targets] == ["__all__"]
            ]
            flows[path.stem] = set(public[0]) if public else set()
    return flows


def test_flows_import_only_each_others_flows_and_no_private_names() -> None:
    """A flow module declares its flows (and the reports they return) in `__all__`; no pipelines module
    imports another's private names or a flow module's other names: what flows share lives in modules of
    steps (pipelines.day_list, pipelines.champions, pipelines.configuration, ...)."""
    flows = _flow_modules()
    assert {"ingest_flow", "train_flow", "score_flow", "daily_flow", "demo_flow", "rehearsal"} <= set(flows)
    for module, public in flows.items():
        exported = importlib.import_module(f"pipelines.{module}")
        assert public and all(hasattr(exported, name) for name in public), module
        assert any(isinstance(getattr(exported, name), Flow) for name in public), module
    private = [(m, source, name) for m, source, name in _pipelines_imports() if name.startswith("_")]
    internals = [
        (m, source, name)
        for m, source, name in _pipelines_imports()
        if source in flows and name not in flows[source]
    ]
    assert private == [] and internals == []
