"""The feature lab: which feature sets and estimators rank each city's cases closest to its truth.

For every scenario of the generalization benchmark, the city is written and ingested once into
`--work-dir` (kept between runs), the training matrix is built as of the benchmark's training date with
every feature family, and each (feature set, estimator) pair is fitted and calibrated as training does
(`models.train.fit_calibrated` on the same fit and calibration dates) and scores the benchmark's 7
evaluation dates. The table gives P@5% against the truth's P@5% on those dates, the rolling-fold
validation P@5% training would choose by, and the grid's own choice. The feature sets are the ablation
(foundation, foundation + each family, all), so this is the ablation of issue 16 rerun on the family
of cities, judged on the truth rather than on held-out labels.

    python -m bench.feature_lab --work-dir /tmp/lab --scenarios hawkes_calls,demo-default
    python -m bench.feature_lab --work-dir /tmp/lab --sets all --kinds logistic,trees --grid
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.common import REPO, code_state, machine
from bench.generalization import BENCH_KEY, EXPORTS, _chosen, read_truth
from bench.generalization_figures import TOP_FRACTION, evaluation_dates, in_top_share, precision_at_share
from bench.generalization_scenarios import all_scenarios
from contracts.settings import Settings

READY = "ingested.ok"
GRID_CANDIDATES = ("logistic", "logistic_foundation", "logistic_sparse", "trees", "trees_tuned", "blend")


def lab_settings(home: Path) -> Settings:
    """The product's default settings on the lab's home."""
    return Settings(home=home, pseudonym_key=BENCH_KEY)


def prepared(scenario: Any, work_dir: Path) -> tuple[Settings, pd.DataFrame]:
    """The scenario's city written and ingested into its home (once; reused when ready) and its truth."""
    from pipelines.runtime import ingest_keyed, pseudonym_key

    folder = work_dir / scenario.name
    data, home = folder / "city", folder / "home"
    settings = lab_settings(home)
    if not (folder / READY).exists():
        if folder.exists():
            shutil.rmtree(folder)
        scenario.write(data)
        key, _ = pseudonym_key(settings)
        ingest_keyed([data / f"{name}.csv" for name in EXPORTS], settings, key)
        (folder / READY).write_text("ok\n", encoding="utf-8")
    return settings, read_truth(data / "truth" / "escalation.csv")


def feature_sets(only: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """The ablation's feature sets over every family (default and optional): foundation, + each family,
    all; and the core logistic's (`core`, `core + family`); or the named ones."""
    from features.matrix import ALL_FAMILIES, FOUNDATION_FEATURES, LOGISTIC_CORE_FEATURES
    from models.ablation import FOUNDATION, family_sets

    families = {f.__name__.rsplit(".", 1)[-1]: f.FEATURES for f in ALL_FAMILIES}
    sets = family_sets(families, FOUNDATION_FEATURES)
    sets["all but text"] = tuple(d for d in sets["all"] if d.kind != "text")
    core = family_sets(families, LOGISTIC_CORE_FEATURES)
    sets["core"] = core.pop(FOUNDATION)
    sets.update({f"core {label}": docs for label, docs in core.items() if label.startswith("+")})
    every = {d.name: d for docs in families.values() for d in docs}
    composed = {label: _composed(label, sets, families, every) for label in only if label not in sets}
    return {**{k: v for k, v in sets.items() if not only or k in only}, **composed}


def _composed(
    label: str, sets: dict[str, tuple[Any, ...]], families: dict[str, tuple[Any, ...]], every: dict[str, Any]
) -> tuple[Any, ...]:
    """A set named `base + part + part`: a named set, then families or single features added."""
    base, *parts = [p.strip() for p in label.split(" + ")]
    if base not in sets:
        raise SystemExit(f"unknown feature set {base!r} in {label!r}")
    docs = {d.name: d for d in sets[base]}
    for part in parts:
        if part not in families and part not in every:
            raise SystemExit(f"{part!r} in {label!r} is neither a family nor a feature")
        docs.update({d.name: d for d in families.get(part, (every.get(part),))})
    return tuple(docs.values())


@dataclass(frozen=True)
class LabCity:
    """A lab city as training sees it on the benchmark's training date: its settings, truth, evaluation
    dates, snapshot dates, training matrix (every family) and the evaluation dates' feature frames."""

    settings: Settings
    truth: pd.DataFrame
    dates: list[date]
    snapshots: list[date]
    matrix: pd.DataFrame
    frames: dict[date, pd.DataFrame]


def lab_city(scenario: Any, work_dir: Path) -> LabCity:
    """The scenario's city prepared in `work_dir`, its training matrix and evaluation frames built."""
    from features.known import cut
    from features.matrix import ALL_FAMILIES, build_features, training_matrix
    from pipelines.runtime import load_sources, open_warehouse
    from pipelines.train_flow import training_dates

    settings, truth = prepared(scenario, work_dir)
    dates = evaluation_dates(sorted(set(truth["as_of"])))
    sources = load_sources(open_warehouse(settings))
    known = cut(sources, dates[0]).sources
    snapshots = training_dates(known, dates[0], settings)
    escalations = [str(t) for t in settings.escalation_events]
    matrix = training_matrix(
        known, snapshots, settings.horizon_days, escalations, ALL_FAMILIES, dormant_days=settings.dormant_days
    )
    frames = {d: build_features(sources, d, ALL_FAMILIES, settings.dormant_days) for d in dates}
    return LabCity(settings, truth, dates, snapshots, matrix, frames)


def run_lab(
    scenario: Any,
    work_dir: Path,
    sets: Sequence[str],
    kinds: Sequence[str],
    grid: str,
    candidates: Sequence[str] = GRID_CANDIDATES,
) -> dict[str, Any]:
    """Every (feature set, estimator) of the scenario against its truth on the evaluation dates."""
    from models.date_policy import final_split
    from models.estimator import Candidate
    from models.train import CannotFit, cross_validate, fit_calibrated, train, training_folds, usable_folds
    from pipelines.configuration import model_grid, training_plan

    clock = time.perf_counter()
    city = lab_city(scenario, work_dir)
    settings, truth, dates, snapshots = city.settings, city.truth, city.dates, city.snapshots
    matrix, frames = city.matrix, city.frames
    built = time.perf_counter() - clock
    plan = training_plan(settings)
    folds = usable_folds(matrix, training_folds(snapshots, plan.date_policy))
    fitting, calibrating = final_split(snapshots, plan.date_policy)
    truths = {d: truth[truth["as_of"] == d].set_index("case_id") for d in dates}
    ceiling = float(np.mean([_p_at(t["p_escalation"], t) for t in truths.values()]))
    expected_ceiling = float(np.mean([_expected_p_at(t["p_escalation"], t) for t in truths.values()]))

    def judged(candidate: Any, validation: pd.Series | None = None) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            if validation is None:
                validation = cross_validate(matrix, candidate, folds, plan).fold_precision()
            model = fit_calibrated(matrix, candidate, fitting, calibrating, plan)
        except CannotFit as error:
            return {"error": str(error)}
        names = list(candidate.feature_names)
        precision, expected = [], []
        for d in dates:
            frame = frames[d]
            scores = pd.Series(model.predict_proba(frame[names])[:, 1], index=frame["case_id"])
            precision.append(_p_at(scores, truths[d]))
            expected.append(_expected_p_at(scores, truths[d]))
        product = float(np.mean(precision))
        return {
            "validation": float(validation.mean()),
            "validation_std": float(validation.std(ddof=0)),
            "product": product,
            "x_truth": product / ceiling,
            "expected_x_truth": float(np.mean(expected)) / expected_ceiling,
            "seconds": time.perf_counter() - started,
        }

    rows = []
    params = single_kind_params(settings, kinds)
    for label, docs in feature_sets(sets).items():
        for kind in kinds:
            base, _, strength = kind.partition("@")  # "logistic@0.02": the logistic with C = 0.02
            chosen_params = {**params[base], **({"C": float(strength)} if strength else {})}
            usable = tuple(d for d in docs if d.kind != "text" or base == "logistic")
            figures = judged(Candidate(f"{kind}:{label}", base, usable, chosen_params))  # type: ignore[arg-type]
            rows.append({"features": label, "kind": kind, "n_features": len(usable), **figures})
            print(json.dumps({"scenario": scenario.name, **rows[-1]}, default=str), flush=True)
    chosen = None
    if grid:
        from dataclasses import replace

        from features.matrix import OPTIONAL_FAMILIES, families_with, feature_docs

        families = families_with(OPTIONAL_FAMILIES if grid == "all" else ())
        grid_settings = settings.model_copy(update={"candidates": tuple(candidates)})
        result = train(matrix, model_grid(grid_settings, feature_docs(families)), plan)
        for evaluation in result.evaluations:
            candidate = replace(evaluation.candidate, tuning=None)
            figures = judged(candidate, evaluation.fold_precision())
            label = f"grid, {grid} families"
            rows.append(
                {"features": label, "kind": candidate.name, "n_features": len(candidate.docs), **figures}
            )
            print(json.dumps({"scenario": scenario.name, **rows[-1]}, default=str), flush=True)
        chosen = {
            "candidate": result.candidate.name,
            **next(
                r for r in rows if r["kind"] == result.candidate.name and r["features"].startswith("grid")
            ),
        }
        print(json.dumps({"scenario": scenario.name, "grid": chosen}, default=str), flush=True)
    return {
        "name": scenario.name,
        "family": scenario.family,
        "truth": ceiling,
        "expected_truth": expected_ceiling,
        "matrix_rows": len(matrix),
        "build_seconds": built,
        "rows": rows,
        "grid": chosen,
    }


def single_kind_params(settings: Settings, kinds: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each estimator kind's configured hyperparameters; a kind that is not one estimator is an error."""
    from pipelines.configuration import hyperparameters

    params = {kind: p for kind, p in hyperparameters(settings).items() if kind != "blend"}
    unknown = sorted({k.partition("@")[0] for k in kinds} - set(params))
    if unknown:
        choices = ", ".join(params)
        raise SystemExit(f"--kinds: {', '.join(unknown)} not an estimator kind (choose from {choices})")
    return params


def _p_at(scores: pd.Series, truth: pd.DataFrame) -> float:
    """P@5% of the scores (indexed by case id) over the truth's cases of one date (unscored cases last)."""
    values = truth.index.to_series().map(scores).fillna(-1.0).to_numpy(dtype=float)
    return precision_at_share(
        truth["escalated"].to_numpy(dtype=bool), values, list(truth.index), TOP_FRACTION
    )


def _expected_p_at(scores: pd.Series, truth: pd.DataFrame) -> float:
    """Mean true probability of the top 5% by the scores: P@5% without the noise of the outcomes."""
    values = truth.index.to_series().map(scores).fillna(-1.0).to_numpy(dtype=float)
    top = in_top_share(values, list(truth.index), TOP_FRACTION)
    return float(truth["p_escalation"].to_numpy(dtype=float)[top].mean())


def _table(results: Sequence[dict[str, Any]], label: str, rows: Sequence[tuple[str, str]]) -> list[str]:
    """A table of expected × truth: one line per (features, kind) pair, scenarios across, then the mean."""
    lines = [f"| {label} | " + " | ".join(r["name"] for r in results) + " | mean |", "|---|"]
    lines[-1] += "---:|" * (len(results) + 1)
    for features, kind in rows:
        cells = []
        for r in results:
            row = next((x for x in r["rows"] if x["kind"] == kind and x["features"] == features), None)
            cells.append(row.get("expected_x_truth") if row else None)
        known = [c for c in cells if c is not None]
        mean = sum(known) / len(known) if known else None
        shown = [f"{c:.2f}×" if c is not None else "–" for c in (*cells, mean)]
        lines.append(f"| {kind if label == 'candidate' else features} | " + " | ".join(shown) + " |")
    return [*lines, ""]


def render(results: Sequence[dict[str, Any]]) -> str:
    """The grid's candidates (when run), then one table per estimator with the feature sets down; scenarios
    across; expected P@5% as a multiple of the truth's."""
    lines = [
        "# Feature lab: feature sets and estimators against each city's truth",
        "",
        "Expected P@5% (mean true probability of the listed cases) as a multiple of the truth's, mean over",
        "the 7 evaluation dates: the realised P@5% without the noise of who happened to escalate.",
        "",
    ]
    pairs = list(dict.fromkeys((row["features"], row["kind"]) for r in results for row in r["rows"]))
    grid = [p for p in pairs if p[0].startswith("grid")]
    for features in dict.fromkeys(f for f, _ in grid):
        lines += [f"## The model grid ({features})", ""]
        lines += _table(results, "candidate", [p for p in grid if p[0] == features])
    for kind in dict.fromkeys(k for f, k in pairs if (f, k) not in grid):
        lines += [f"## {kind}: feature sets", ""]
        lines += _table(results, "features", [p for p in pairs if p[1] == kind and p not in grid])
    grids = [r for r in results if r.get("grid")]
    if grids:
        lines += [
            "## The grid's choice",
            "",
            "| scenario | chosen | validation P@5% | realised × truth | expected × truth |",
            "|---|---|---:|---:|---:|",
        ]
        for r in grids:
            g = r["grid"]
            validation, times, expected = g["validation"], g["x_truth"], g["expected_x_truth"]
            lines.append(
                f"| {r['name']} | {g['candidate']} | {validation:.3f} | {times:.2f}× | {expected:.2f}× |"
            )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Run the lab on the chosen scenarios and write bench/feature_lab.md and .json."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work-dir", type=Path, required=True, help="folder for the cities and homes (kept)")
    parser.add_argument("--scenarios", default="", help="comma-separated scenario names (default: all)")
    parser.add_argument("--cases", type=int, default=8_000)
    parser.add_argument("--days", type=int, default=540)
    parser.add_argument("--sets", default="", help="comma-separated feature sets (default: the ablation's)")
    parser.add_argument(
        "--kinds",
        default="logistic,trees",
        help="estimator kinds of the model grid; `logistic@0.02` is the logistic with C = 0.02",
    )
    parser.add_argument(
        "--grid",
        choices=("", "default", "all"),
        default="",
        help="also run the full model grid (tuned trees and blend too) on the default or all families, "
        "judge every candidate and the grid's choice",
    )
    parser.add_argument(
        "--candidates",
        default=",".join(GRID_CANDIDATES),
        help="the model grid's candidates (with --grid), comma-separated",
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench")
    args = parser.parse_args(argv)
    scenarios, _ = all_scenarios(args.cases, args.days)
    chosen = _chosen(scenarios, args.scenarios)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    candidates = [c.strip() for c in args.candidates.split(",") if c.strip()]
    results = [run_lab(s, args.work_dir, sets, kinds, args.grid, candidates) for s in chosen]
    figures = {
        "command": "python -m bench.feature_lab " + " ".join(argv or []),
        "date": date.today().isoformat(),
        "cases": args.cases,
        "days": args.days,
        "results": results,
        "machine": machine(),
        "code": code_state(("features", "models")),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "feature_lab.json").write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
    (args.out / "feature_lab.md").write_text(render(results), encoding="utf-8")
    print(render(results))


if __name__ == "__main__":
    main()
