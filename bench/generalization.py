"""How the product does on cities it was not designed on: the generalization benchmark (issue 16).

For every scenario (a simulated city with its truth), the product runs as a new deployment would: the
city's three exports are ingested into a fresh home, the model grid is trained as of a date and the
champion scores the open cases on 7 dates two weeks apart, the first being the training date. On each
date the published list is compared with the city's truth (`truth/escalation.csv`: every open case's
true escalation probability and whether it escalated within the 30-day horizon): precision in the top 5%
of the open cases (P@5%) of the product's list, of the cases ranked by their true probabilities (the
ceiling) and of the rule baseline (`models.rules`: most case-linked calls in 7 days, then the category's
rate). Also, per date, the recall in the top 5% among the escalating new cases (opened fewer than
`contracts.evaluation.NEW_CASE_DAYS` days before the date) and among the ongoing ones, for the product and the
truth. Writes bench/generalization.md and .json.

    python -m bench.generalization                              # every scenario, 8,000 cases, 540 days
    python -m bench.generalization --scenarios demo-default,demo-messy --cases 4000 --days 400
    python -m bench.generalization --render                     # figures and md again from the json

Scenarios: the demo simulator (`cities.demo`) at several settings of its `SimulationConfig`, and
the scenarios of the separately written generator in `cities/` when that package is importable.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import traceback
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from bench.common import REPO, code_state, machine
from bench.generalization_figures import (
    MEASURES,
    SCORE_DATES,
    STEP_DAYS,
    TOP_FRACTION,
    case_ages,
    date_figures,
    evaluation_dates,
    list_scores,
    opening_times,
    overall,
    scenario_figures,
)
from bench.generalization_report import render
from bench.generalization_scenarios import DRAW_MARK, Scenario, all_scenarios, base_name, redrawn

TRUTH_COLUMNS = ("as_of", "case_id", "p_escalation", "escalated")
EXPORTS = ("cases", "case_events", "hotline")
BENCH_KEY = "generalization-benchmark-key-not-a-secret-0123456789"


def read_truth(path: Path) -> pd.DataFrame:
    """A city's truth table, checked: as_of (date), case_id (text), p_escalation, escalated (bool)."""
    truth = pd.read_csv(path, dtype={"case_id": str})
    missing = [c for c in TRUTH_COLUMNS if c not in truth.columns]
    if missing:
        raise ValueError(f"{path}: truth table lacks the columns {missing}")
    truth["as_of"] = pd.to_datetime(truth["as_of"]).dt.date
    flags = {"true": True, "false": False, "1": True, "0": False}
    truth["escalated"] = truth["escalated"].astype(str).str.lower().map(flags)
    if truth["escalated"].isna().any():
        line = int(truth.index[truth["escalated"].isna()][0]) + 2
        raise ValueError(f"{path}: line {line}: field escalated is not true/false")
    return truth


def exported_openings(path: Path) -> pd.DataFrame:
    """`case_id` and `opened_at` (text) of a city's exported cases; no rows when the file does not name
    those columns (then only the store says when cases were opened). Malformed lines are skipped."""
    try:
        return pd.read_csv(path, dtype=str, usecols=["case_id", "opened_at"], on_bad_lines="skip")
    except ValueError:
        return pd.DataFrame({"case_id": pd.Series(dtype=str), "opened_at": pd.Series(dtype=str)})


def _settings(home: Path) -> Any:
    from contracts.settings import Settings

    return Settings(home=home, pseudonym_key=BENCH_KEY)


def run_scenario(scenario: Scenario, work_dir: Path) -> dict[str, Any]:
    """Write the city, ingest it into a fresh home, train as of the first truth date of the evaluation,
    score the evaluation dates and compare each list with the truth and the rule."""
    from features import context, hotline_activity
    from features.known import cut
    from features.matrix import features_at
    from models.rules import RULE_FEATURE, RULE_TIEBREAK, rule_scores
    from pipelines.ingest_flow import ingest_flow
    from pipelines.runtime import load_sources, open_warehouse
    from pipelines.score_flow import score_flow
    from pipelines.train_flow import train_flow

    folder = work_dir / scenario.name
    data, home = folder / "city", folder / "home"
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty: give a new --work-dir (every home must be fresh)")
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    scenario.write(data)
    seconds["simulate"] = time.perf_counter() - clock
    truth = read_truth(data / "truth" / "escalation.csv")
    dates = evaluation_dates(sorted(set(truth["as_of"])))
    settings = _settings(home)

    clock = time.perf_counter()
    ingested = ingest_flow([data / f"{name}.csv" for name in EXPORTS], settings)
    failed = ingested.accounting[ingested.accounting["status"] == "failed"]
    if len(failed):
        raise RuntimeError(f"{scenario.name}: ingest refused {failed['source_file'].tolist()}")
    seconds["ingest"] = time.perf_counter() - clock
    accounting = {
        str(row.kind): {
            "read": int(row.read),
            "quarantined": int(row.quarantined),
            "duplicates": int(row.duplicates),
        }
        for row in ingested.accounting.itertuples()
    }

    clock = time.perf_counter()
    trained = train_flow(dates[0], settings)
    seconds["train"] = time.perf_counter() - clock

    clock = time.perf_counter()
    lists = {d: score_flow(d, settings).listed for d in dates}
    seconds["score"] = time.perf_counter() - clock

    sources = load_sources(open_warehouse(settings))
    opened = opening_times(sources.cases, exported_openings(data / "cases.csv"))
    rows = []
    for d in dates:
        day = truth[truth["as_of"] == d][["case_id", "p_escalation", "escalated"]].reset_index(drop=True)
        features = features_at(cut(sources, d), (hotline_activity, context))
        rule = pd.Series(rule_scores(features[[RULE_FEATURE, RULE_TIEBREAK]]), index=features["case_id"])
        day["truth"] = day["p_escalation"].astype(float)
        day["rule"] = day["case_id"].map(rule).fillna(-1.0).to_numpy(dtype=float)
        day["product"] = list_scores(day["case_id"], lists[d])
        day["case_age"] = case_ages(d, day["case_id"].map(opened))
        listed = set(lists[d]["case_id"].astype(str))
        rows.append(
            {
                "as_of": d.isoformat(),
                **date_figures(day),
                "on_list": int(day["case_id"].isin(listed).sum()),
                "listed_without_truth": len(listed - set(day["case_id"])),
            }
        )
    seconds["total"] = sum(seconds.values())
    return {
        "name": scenario.name,
        "family": scenario.family,
        "description": scenario.description,
        "config": scenario.config,
        "train_as_of": dates[0].isoformat(),
        "model_version": trained.model_version,
        "candidate": trained.candidate,
        "grid": trained.grid.to_dict(orient="records"),  # with each candidate's estimator and search
        "search_trials": trained.trials.to_dict(orient="records"),  # every trial, for replays
        "training_snapshots": trained.n_snapshots,
        "training_base_rate": trained.base_rate,
        "ingest": accounting,
        "dates": rows,
        **scenario_figures(rows),
        "seconds": seconds,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Run the chosen scenarios (or re-render) and write bench/generalization.md and .json."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", default="", help="comma-separated scenario names (default: all)")
    parser.add_argument("--cases", type=int, default=8_000, help="cases per city (default 8,000)")
    parser.add_argument("--days", type=int, default=540, help="days of exports per city (default 540)")
    parser.add_argument("--work-dir", type=Path, default=None, help="folder for the cities and homes (kept)")
    parser.add_argument("--out", type=Path, default=REPO / "bench", help="where the md and json go")
    parser.add_argument("--render", action="store_true", help="only rewrite the md from the json")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = parser.parse_args(argv)
    json_path, md_path = args.out / "generalization.json", args.out / "generalization.md"
    if args.render:
        results = refigured(json.loads(json_path.read_text(encoding="utf-8")))
        json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        md_path.write_text(render(results), encoding="utf-8")
        print(md_path.read_text(encoding="utf-8"))
        return
    scenarios, notes = all_scenarios(args.cases, args.days)
    if args.list:
        for s in scenarios:
            print(f"{s.name:24} {s.family:18} {s.description}")
        for note in notes:
            print(note)
        return
    chosen = _chosen(scenarios, args.scenarios)
    # Prefect reads its settings when first imported: a loaded machine needs more than its 20 s default
    # for the temporary server, which this process starts once for every scenario.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "300")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    with tempfile.TemporaryDirectory(prefix="fengqiao-generalization-") as scratch:
        work_dir = args.work_dir or Path(scratch)
        results = []
        for scenario in chosen:
            print(f"== {scenario.name} ({scenario.family}) in {work_dir / scenario.name}", flush=True)
            try:
                results.append(run_scenario(scenario, work_dir))
            except Exception as error:  # one failed city must not lose the others' figures
                traceback.print_exc()
                notes.append(f"{scenario.name} failed, not in the table: {type(error).__name__}: {error}")
                continue
            shown = ("name", *MEASURES, "product_recall_new", "product_recall_ongoing")
            print(json.dumps({k: results[-1].get(k) for k in shown}, default=str), flush=True)
    settings = _settings(Path(scratch))
    figures = {
        "command": "python -m bench.generalization"
        + (f" --scenarios {args.scenarios}" if args.scenarios else "")
        + f" --cases {args.cases} --days {args.days}",
        "date": date.today().isoformat(),
        "settings": {
            "cases": args.cases,
            "days": args.days,
            "score_dates": SCORE_DATES,
            "step_days": STEP_DAYS,
            "top_fraction": TOP_FRACTION,
            "horizon_days": settings.horizon_days,
            "candidates": list(settings.candidates),
        },
        "notes": notes,
        "scenarios": results,
        "summary": overall(results),
        "machine": machine(),
        "code": code_state(("contracts", "features", "models", "pipelines", "ingest", "cities")),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    md_path.write_text(render(figures), encoding="utf-8")
    print(render(figures))


def refigured(results: dict[str, Any]) -> dict[str, Any]:
    """Stored results with every scenario's figures and the summary computed again from the stored dates
    (figures added to the benchmark since the results were written appear; measured ones stay)."""
    scenarios = [{**s, **scenario_figures(s["dates"])} for s in results["scenarios"]]
    return {**results, "scenarios": scenarios, "summary": overall(scenarios)}


def _chosen(scenarios: list[Scenario], names: str) -> list[Scenario]:
    """The scenarios named (all when none), in the order given, `name~k` for draw k of one; an unknown name
    is an error."""
    if not names:
        return scenarios
    by_name = {s.name: s for s in scenarios}
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if base_name(n) not in by_name]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {unknown}; known: {sorted(by_name)} (and name{DRAW_MARK}k)")
    return [by_name[n] if n in by_name else _draw(by_name[base_name(n)], n) for n in wanted]


def _draw(scenario: Scenario, name: str) -> Scenario:
    number = name.split(DRAW_MARK, 1)[1]
    if not number.isdigit():
        raise SystemExit(f"{name}: a draw is {scenario.name}{DRAW_MARK}k with k a whole number")
    return redrawn(scenario, int(number))


if __name__ == "__main__":
    main()
