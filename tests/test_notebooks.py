"""The notebooks run top to bottom on a tiny simulated city, and are kept in git without outputs."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat import NotebookNode

from contracts.settings import Settings
from features.matrix import LOGISTIC_CORE_FEATURES
from pipelines.runtime import registry

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CELL_TIMEOUT = 300
pytestmark = pytest.mark.filterwarnings("ignore:Glyph .* missing from font")


def execute(name: str, home: Path, **parameters: str) -> NotebookNode:
    """Run a notebook in a fresh kernel, from its own folder, with the home and parameters as variables."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("FENGQIAO_", "NB_"))
    }
    python_path = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    environment |= {"FENGQIAO_HOME": str(home), "PYTHONPATH": os.pathsep.join(python_path), **parameters}
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute(env=environment)
    return notebook


def outputs(notebook: NotebookNode, kind: str) -> list[str]:
    """Every output of a kind ('text/plain', 'image/png', 'stdout', ...) over the notebook's code cells."""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("name") == kind:
                found.append(output["text"])
            elif kind in output.get("data", {}):
                found.append(output["data"][kind])
    return found


def test_notebooks_are_committed_without_outputs() -> None:
    names = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert names == ["01-retrain-and-compare.ipynb", "02-explore-a-district.ipynb"]
    for name in names:
        notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(notebook)
        dirty = [
            index
            for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
        ]
        assert dirty == [], f"{name}: cells {dirty} have outputs; clear them before committing"


@pytest.mark.slow
def test_retrain_notebook_registers_a_challenger_without_promoting_it(trained_copy: Settings) -> None:
    home = trained_copy.home  # the tiny city ingested, a champion (v1) trained and a list published
    notebook = execute("01-retrain-and-compare.ipynb", home, NB_CHALLENGER_C="0.05")
    text = "".join(outputs(notebook, "stdout"))
    n_features = len(LOGISTIC_CORE_FEATURES)  # the foundation logistic's features (the notebook's grid)
    assert f"challenger: logistic regression (C=0.05; {n_features} features)" in text
    assert "fengqiao promote 2" in text
    assert len(outputs(notebook, "image/png")) >= 6  # precision, depth, calibration, 2 fairness, overlap
    place = registry(Settings(home=home))
    assert place.champion_version() == "1"
    versions = place.versions().set_index("version")
    assert versions.loc[2, "promoted"] == "False"
    assert versions.loc[2, "source"] == "notebooks/01-retrain-and-compare.ipynb"
    assert "`fengqiao promote 2`" in versions.loc[2, "decision"]


@pytest.mark.slow
def test_district_notebook_draws_a_district(trained_copy: Settings) -> None:
    notebook = execute("02-explore-a-district.ipynb", trained_copy.home, NB_DISTRICT="江北区")
    text = "".join(outputs(notebook, "stdout"))
    assert "exploring 江北区" in text
    assert "open cases are in 江北区" in text
    assert len(outputs(notebook, "image/png")) >= 5
