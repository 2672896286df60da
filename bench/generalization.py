"""How the product does on cities it was not designed on: the generalization benchmark (issue 16).

For every scenario (a simulated city with its truth), the product runs as a new deployment would: the
city's three exports are ingested into a fresh home, the model grid is trained as of a date and the
champion scores the open cases on 7 dates two weeks apart, the first being the training date. On each
date the published list is compared with the city's truth (`truth/escalation.csv`: every open case's
true escalation probability and whether it escalated within the 30-day horizon): precision in the top 5%
of the open cases (P@5%) of the product's list, of the cases ranked by their true probabilities (the
ceiling) and of the rule baseline (`models.rules`: most case-linked calls in 7 days, then the category's
rate). Writes bench/generalization.md and .json.

    python -m bench.generalization                              # every scenario, 8,000 cases, 540 days
    python -m bench.generalization --scenarios demo-default,demo-messy --cases 4000 --days 400
    python -m bench.generalization --render                     # the md again from the json

Scenarios: the demo simulator (`ingest.simulate`) at several settings of its `SimulationConfig`, and
the scenarios of the separately written generator in `cities/` when that package is importable.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib
import json
import math
import os
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.common import REPO, code_state, machine
from models.metrics import top_k

SCORE_DATES = 7
STEP_DAYS = 14
TOP_FRACTION = 0.05
RANKINGS = ("product", "truth", "rule")
TRUTH_COLUMNS = ("as_of", "case_id", "p_escalation", "escalated")
EXPORTS = ("cases", "case_events", "hotline")
# Targets of issue 16, on every scenario and on the mean over scenarios.
TARGET_TRUTH, TARGET_RULE, TARGET_MEAN_TRUTH = 0.85, 1.6, 0.90
BENCH_KEY = "generalization-benchmark-key-not-a-secret-0123456789"
DEMO_FAMILY = "demo simulator"
CITIES_FAMILY = "cities generator"


# ---------------------------------------------------------------- metrics (pure)


def tie_order(case_ids: Sequence[str]) -> np.ndarray:
    """A fixed pseudo-random order of case ids (a hash, unrelated to age or district) for breaking ties."""
    return np.array(
        [int.from_bytes(hashlib.blake2b(str(c).encode(), digest_size=8).digest(), "big") for c in case_ids],
        dtype=np.uint64,
    )


def precision_at_share(
    labels: np.ndarray, scores: np.ndarray, case_ids: Sequence[str], fraction: float = TOP_FRACTION
) -> float:
    """Share of escalations among the top `fraction` of cases by score (at least one case); equal scores
    are ordered by `tie_order` of their case ids, so the figure is the same on every run."""
    labels, scores = np.asarray(labels, dtype=float), np.asarray(scores, dtype=float)
    if len(labels) == 0:
        return float("nan")
    if np.isnan(scores).any():
        raise ValueError("scores hold NaN: give unranked cases the lowest score instead")
    order = np.lexsort((tie_order(case_ids), -scores))
    k = top_k(len(labels), fraction)
    return float(labels[order[:k]].sum() / k)


def list_scores(case_ids: Sequence[str], listed: pd.DataFrame) -> np.ndarray:
    """A score per case from a published list's ranks (rank 1 highest); cases not on the list score 0,
    below every listed case."""
    ranks = pd.Series(listed["rank"].to_numpy(dtype=float), index=listed["case_id"].astype(str))
    found = pd.Series(list(case_ids), dtype=str).map(ranks)
    return np.where(found.isna(), 0.0, len(listed) + 1 - found.fillna(0.0)).astype(float)


def date_figures(day: pd.DataFrame, fraction: float = TOP_FRACTION) -> dict[str, Any]:
    """One date's figures from its open cases (`case_id`, `escalated` and a score column per ranking)."""
    labels = day["escalated"].to_numpy(dtype=float)
    ids = day["case_id"].astype(str).tolist()
    row: dict[str, Any] = {
        "n": len(day),
        "k": top_k(len(day), fraction),
        "base_rate": float(labels.mean()) if len(day) else float("nan"),
    }
    row.update({name: precision_at_share(labels, day[name].to_numpy(), ids, fraction) for name in RANKINGS})
    return row


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, None when the denominator is zero or either is missing."""
    if denominator is None or numerator is None or not denominator or math.isnan(denominator):
        return None
    return float(numerator / denominator)


def scenario_figures(dates: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A scenario's figures from its dates: mean P@5% of each ranking, the product's ratio to the truth
    and to the rule (ratios of the means), base rate and open cases per date."""
    means = {name: float(np.mean([d[name] for d in dates])) for name in RANKINGS}
    return {
        **means,
        "product_sd": float(np.std([d["product"] for d in dates])),
        "ratio_to_truth": ratio(means["product"], means["truth"]),
        "ratio_to_rule": ratio(means["product"], means["rule"]),
        "base_rate": float(np.mean([d["base_rate"] for d in dates])),
        "open_cases": float(np.mean([d["n"] for d in dates])),
    }


MEASURES = ("product", "truth", "rule", "ratio_to_truth", "ratio_to_rule", "base_rate", "open_cases")


def overall(scenarios: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean over scenarios of every measure, the worst scenario (lowest ratio to the truth, then to the
    rule) and whether the issue's targets are met."""
    if not scenarios:
        return {}

    def mean(measure: str) -> float | None:
        values = [s[measure] for s in scenarios if s.get(measure) is not None]
        return float(np.mean(values)) if values else None

    def worst(measure: str) -> dict[str, Any]:
        scored = [s for s in scenarios if s.get(measure) is not None]
        if not scored:
            return {"scenario": None, measure: None}
        lowest = min(scored, key=lambda s: (s[measure], s["name"]))
        return {"scenario": lowest["name"], measure: lowest[measure]}

    means = {m: mean(m) for m in MEASURES}
    low_truth, low_rule = worst("ratio_to_truth"), worst("ratio_to_rule")
    return {
        "scenarios": len(scenarios),
        "mean": means,
        "worst_ratio_to_truth": low_truth,
        "worst_ratio_to_rule": low_rule,
        "targets": {
            "every_ratio_to_truth": TARGET_TRUTH,
            "every_ratio_to_rule": TARGET_RULE,
            "mean_ratio_to_truth": TARGET_MEAN_TRUTH,
        },
        "met": {
            "every_ratio_to_truth": _at_least(low_truth["ratio_to_truth"], TARGET_TRUTH),
            "every_ratio_to_rule": _at_least(low_rule["ratio_to_rule"], TARGET_RULE),
            "mean_ratio_to_truth": _at_least(means["ratio_to_truth"], TARGET_MEAN_TRUTH),
        },
    }


def _at_least(value: float | None, target: float) -> bool:
    return value is not None and value >= target


def evaluation_dates(
    truth_dates: Sequence[date], count: int = SCORE_DATES, step_days: int = STEP_DAYS
) -> list[date]:
    """The latest `count` dates `step_days` apart that all have truth; the first is the training date."""
    have = set(truth_dates)
    for first in sorted(have, reverse=True):
        dates = [first + timedelta(days=i * step_days) for i in range(count)]
        if all(d in have for d in dates):
            return dates
    raise ValueError(f"the truth has no {count} dates {step_days} days apart (dates: {len(have)})")


# ---------------------------------------------------------------- the Markdown table (pure)


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _times(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _mark(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _ingested(accounting: dict[str, dict[str, int]] | None) -> str:
    """What the ingest read and quarantined, per kind of record."""
    if not accounting:
        return ""
    parts = [f"{kind} {a['read']:,} read, {a['quarantined']:,} quarantined" for kind, a in accounting.items()]
    return " Ingest: " + "; ".join(parts) + "."


def render(results: dict[str, Any]) -> str:
    """The results as Markdown: the table a person reads, then the targets, per-date figures and notes."""
    scenarios, summary = results["scenarios"], results.get("summary") or {}
    lines = [
        "# Generalization: the product on cities it was not designed on",
        "",
        f"`{results['command']}` ({results['date']}; {results['settings']['cases']:,} cases and "
        f"{results['settings']['days']} days per city unless a scenario says otherwise). Each city is "
        "ingested into a fresh home, trained as of its first date and scored on "
        f"{results['settings']['score_dates']} dates {results['settings']['step_days']} days apart; "
        f"P@{results['settings']['top_fraction']:.0%} is the share of the top "
        f"{results['settings']['top_fraction']:.0%} of each date's open cases that escalate within "
        f"{results['settings']['horizon_days']} days (the city's truth), mean over the dates.",
        "",
        "| scenario | generator | open cases / date | base rate | product P@5% | truth P@5% (ceiling) "
        "| rule P@5% | × truth | × rule | chosen | minutes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for s in scenarios:
        lines.append(
            f"| {s['name']} | {s['family']} | {s['open_cases']:,.0f} | {_num(s['base_rate'])} | "
            f"**{_num(s['product'])}** | {_num(s['truth'])} | {_num(s['rule'])} | "
            f"{_times(s['ratio_to_truth'])} | {_times(s['ratio_to_rule'])} | {s['candidate']} | "
            f"{s['seconds']['total'] / 60:.1f} |"
        )
    if summary:
        m = summary["mean"]
        lines.append(
            f"| **mean of {summary['scenarios']}** | | {m['open_cases']:,.0f} | {_num(m['base_rate'])} | "
            f"**{_num(m['product'])}** | {_num(m['truth'])} | {_num(m['rule'])} | "
            f"{_times(m['ratio_to_truth'])} | {_times(m['ratio_to_rule'])} | | |"
        )
        wt, wr = summary["worst_ratio_to_truth"], summary["worst_ratio_to_rule"]
        met = summary["met"]
        lines += [
            "",
            f"Worst scenario against the truth: **{wt['scenario']}** ({_times(wt['ratio_to_truth'])}); "
            f"against the rule: **{wr['scenario']}** ({_times(wr['ratio_to_rule'])}).",
            "",
            f"Targets of issue 16: every scenario ≥ {TARGET_TRUTH}× the truth: "
            f"{_mark(met['every_ratio_to_truth'])}; every scenario ≥ {TARGET_RULE}× the rule: "
            f"{_mark(met['every_ratio_to_rule'])}; mean ≥ {TARGET_MEAN_TRUTH}× the truth: "
            f"{_mark(met['mean_ratio_to_truth'])}.",
        ]
    lines += ["", "## Scenarios", ""]
    lines += [f"- **{s['name']}** ({s['family']}): {s['description']}" for s in scenarios]
    lines += [f"- {note}" for note in results.get("notes", [])]
    lines += ["", "## Per date", ""]
    for s in scenarios:
        lines += [
            f"**{s['name']}**: trained as of {s['train_as_of']} ({s['model_version']}, "
            f"{s['candidate']}); wall time simulate {s['seconds']['simulate']:.0f} s, ingest "
            f"{s['seconds']['ingest']:.0f} s, train {s['seconds']['train']:.0f} s, score "
            f"{s['seconds']['score']:.0f} s.{_ingested(s.get('ingest'))}",
            "",
            "| as_of | open cases | k | base rate | product | truth | rule | on the list "
            "| listed, no truth |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *(
                f"| {d['as_of']} | {d['n']:,} | {d['k']} | {_num(d['base_rate'])} | {_num(d['product'])} | "
                f"{_num(d['truth'])} | {_num(d['rule'])} | {d['on_list']:,} | {d['listed_without_truth']:,} |"
                for d in s["dates"]
            ),
            "",
        ]
    lines += [
        "## How it is measured",
        "",
        "- The cases of a date are the city's open cases in its truth. The product's ranking is the "
        "published list's order; open cases not on the list (dormant cases, listed apart, or cases the "
        "store does not hold as open) rank below it. Listed cases without a truth row are left out.",
        "- The rule ranks the same cases by `models.rules.rule_scores` on the point-in-time features of "
        "the date (a case without features ranks last); the ceiling ranks them by `p_escalation`.",
        "- Equal scores are ordered by a hash of the case id (`tie_order`), so every figure is reproducible.",
        "- Ratios are of the means over dates; the mean row averages the scenarios' figures and ratios.",
        "",
        f"Machine: {results['machine']['cpu_model']}, {results['machine']['usable_cores']} usable cores; "
        f"code {results['code']['commit']} (fingerprint {results['code']['fingerprint']}, "
        f"{len(results['code']['uncommitted'])} uncommitted files in the measured packages).",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    """A named city: which generator, what it is, and how to write its exports and truth into a folder."""

    name: str
    family: str
    description: str
    config: dict[str, Any]
    write: Callable[[Path], object]


def demo_scenarios(cases: int, days: int) -> list[Scenario]:
    """The demo simulator at settings its `SimulationConfig` allows, which change the city's draw, size,
    record quality and group grievances (the mechanics, vocabularies and texts stay the simulator's)."""
    from ingest.simulate import SimulationConfig, simulate_city, write_city

    variants = {
        "demo-default": ({"seed": 7}, "the demo city's settings (seed 7, clean records, 2 grievances)"),
        "demo-seed-31": ({"seed": 31}, "another draw of the same city (seed 31)"),
        "demo-messy": (
            {"seed": 11, "messiness": 0.05},
            "messy exports: 5% of rows broken or duplicated (quarantined at ingest, so some events, "
            "escalations and closings go missing; seed 11)",
        ),
        "demo-grievances": (
            {"seed": 23, "grievances": 8},
            "8 group grievances instead of 2, so more risk comes from clusters of callers (seed 23)",
        ),
        "demo-small": (
            {"seed": 5, "n_cases": max(1, cases // 2)},
            f"half the cases ({max(1, cases // 2):,}), a smaller city with fewer escalations to learn from",
        ),
    }
    scenarios = []
    for name, (changes, description) in variants.items():
        config = SimulationConfig(**{"n_cases": cases, "days": days, **changes})
        scenarios.append(
            Scenario(
                name,
                DEMO_FAMILY,
                description,
                _plain(dataclasses.asdict(config)),
                lambda out, config=config: write_city(simulate_city(config), out),
            )
        )
    return scenarios


def cities_scenarios(cases: int, days: int) -> tuple[list[Scenario], str | None]:
    """The scenarios of the separately written generator (`cities`), sized like the others where its
    configurations have `n_cases`/`days` fields; no scenarios and the reason when it is not usable."""
    try:
        scenarios = _find(("cities", "cities.scenario"), "scenarios")
        generate = _find(("cities", "cities.hawkes"), "simulate_city")
        write = _find(("cities", "cities.hawkes"), "write_city")
    except ImportError as error:
        return [], f"the `cities` generator is not usable ({error}): demo-simulator scenarios only"
    found = []
    for name, config in dict(scenarios()).items():
        sized = sized_config(config, cases, days)
        found.append(
            Scenario(
                str(name),
                CITIES_FAMILY,
                describe_config(sized),
                _plain(_as_dict(sized)),
                lambda out, sized=sized: write(generate(sized), out),
            )
        )
    return found, None


def _find(modules: Sequence[str], name: str) -> Callable[..., Any]:
    """The first of the modules' callables called `name` (ImportError when none has it)."""
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if callable(getattr(module, name, None)):
            return getattr(module, name)
    raise ImportError(f"none of {', '.join(modules)} has {name}()")


def sized_config(config: Any, cases: int, days: int) -> Any:
    """The configuration with `n_cases` and `days` set, when it has those fields."""
    changes = {k: v for k, v in {"n_cases": cases, "days": days}.items() if hasattr(config, k)}
    if not changes:
        return config
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.replace(config, **changes)
    if hasattr(config, "model_copy"):
        return config.model_copy(update=changes)
    return config


def _as_dict(config: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        return dataclasses.asdict(config)
    if hasattr(config, "model_dump"):
        return config.model_dump()
    return {"config": repr(config)}


def describe_config(config: Any) -> str:
    """What sets a generated city apart: its settings that differ from the generator's defaults."""
    if not (dataclasses.is_dataclass(config) and not isinstance(config, type)):
        return repr(config)
    changed = [
        f"{f.name}={getattr(config, f.name)}"
        for f in dataclasses.fields(config)
        if f.name not in ("name", "n_cases", "days")
        and (f.name == "signal" or f.default is dataclasses.MISSING or getattr(config, f.name) != f.default)
    ]
    kind = type(config).__name__
    return f"{kind}: " + ("; ".join(changed) if changed else "the generator's defaults")


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-ready values (dates and other objects as text)."""
    return json.loads(json.dumps(values, default=str))


def all_scenarios(cases: int, days: int) -> tuple[list[Scenario], list[str]]:
    """Every scenario, and notes on what could not be included."""
    cities, problem = cities_scenarios(cases, days)
    return demo_scenarios(cases, days) + cities, [problem] if problem else []


# ---------------------------------------------------------------- running the product


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


def _settings(home: Path) -> Any:
    from contracts.settings import Settings

    return Settings(home=home, pseudonym_key=BENCH_KEY)


def run_scenario(scenario: Scenario, work_dir: Path) -> dict[str, Any]:
    """Write the city, ingest it into a fresh home, train as of the first truth date of the evaluation,
    score the evaluation dates and compare each list with the truth and the rule."""
    from contracts.timeparse import as_of_instant
    from features import context, hotline_activity
    from features.matrix import build_features
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
    rows = []
    for d in dates:
        day = truth[truth["as_of"] == d][["case_id", "p_escalation", "escalated"]].reset_index(drop=True)
        known = sources.known_before(as_of_instant(d))
        features = build_features(known, d, (hotline_activity, context))
        rule = pd.Series(rule_scores(features[[RULE_FEATURE, RULE_TIEBREAK]]), index=features["case_id"])
        day["truth"] = day["p_escalation"].astype(float)
        day["rule"] = day["case_id"].map(rule).fillna(-1.0).to_numpy(dtype=float)
        day["product"] = list_scores(day["case_id"], lists[d])
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
        "grid": [
            {k: v for k, v in g.items() if k != "estimator"} for g in trained.grid.to_dict(orient="records")
        ],
        "training_snapshots": trained.n_snapshots,
        "training_base_rate": trained.base_rate,
        "ingest": accounting,
        "dates": rows,
        **scenario_figures(rows),
        "seconds": seconds,
    }


# ---------------------------------------------------------------- command line


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
        md_path.write_text(render(json.loads(json_path.read_text(encoding="utf-8"))), encoding="utf-8")
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
            print(json.dumps({k: results[-1][k] for k in ("name", *MEASURES)}, default=str), flush=True)
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


def _chosen(scenarios: list[Scenario], names: str) -> list[Scenario]:
    """The scenarios named (all when none), in the order given; an unknown name is an error."""
    if not names:
        return scenarios
    by_name = {s.name: s for s in scenarios}
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown scenario(s) {unknown}; known: {sorted(by_name)}")
    return [by_name[n] for n in wanted]


if __name__ == "__main__":
    main()
