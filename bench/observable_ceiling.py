"""How much of a Hawkes city's true risk any model could see: the observable ceiling (issue 16).

The true probabilities of `cities.hawkes` depend on hidden parts (each case's temperament, how fast its
resting activity fades, district shocks) as well as on what is recorded. This benchmark builds, from the
generator's own history, features a perfect record would give (every call with the case truly behind it,
every event, decayed and counted; age, parties, amount, category, district) and fits two models on the
training dates of the generalization benchmark, judged on its 7 evaluation dates like the product:

- **oracle logistic**: a logistic regression on the escalations (what a model learns from outcomes);
- **observable ceiling**: boosted trees fitted to the true probabilities themselves (the best function of
  the perfect record; out of reach of any product, which never sees the truth).

Its ratios to the truth's P@5% say how close to the truth a product could come at best: realised and
expected (the mean true probability of the top 5%), and the ceiling's ratio to the rule of
bench/generalization.json on the same city: the most any product could reach against the rule. A draw
`name~k` is the scenario with its seed moved as in the generalization benchmark; draws of a city are
pooled into one row. Scenarios run now replace their earlier rows in bench/observable_ceiling.json; the
others are kept. Writes bench/observable_ceiling.md and .json.

    python -m bench.observable_ceiling                          # every Hawkes scenario, 8,000 cases
    python -m bench.observable_ceiling --scenarios hawkes_calls~1,hawkes_calls~2
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.common import REPO, code_state, machine
from bench.generalization_figures import TOP_FRACTION, evaluation_dates, in_top_share
from bench.generalization_scenarios import DRAW_MARK, DRAW_SEED_STEP, base_name, by_city, sized_config

HALF_LIVES = (3, 7, 30)
STREAMS = (
    "conflict_visit",
    "visit",
    "mediation_session",
    "mediation_failed",
    "mediated",
    "agreement_breached",
    "referred",
    "violence",
    "group_incident",
    "litigation",
)
MODELS = ("oracle_logistic", "observable_ceiling")


def stream_features(
    case: np.ndarray, day: np.ndarray, rows: np.ndarray, at: np.ndarray, name: str, cases: int
) -> pd.DataFrame:
    """For each (row, at) pair: the number of the stream's events of that case before `at` and their sums
    decayed with each of HALF_LIVES (log1p of each)."""
    out = {f"{name}_all": np.zeros(len(rows))} | {f"{name}_h{h}": np.zeros(len(rows)) for h in HALF_LIVES}
    for when in np.unique(at):
        pick = at == when
        before = day < when
        ages = when - day[before]
        cols = {f"{name}_all": np.ones(ages.size)} | {f"{name}_h{h}": 0.5 ** (ages / h) for h in HALF_LIVES}
        for column, weights in cols.items():
            sums = np.bincount(case[before], weights=weights, minlength=cases)
            out[column][pick] = sums[rows[pick]]
    return pd.DataFrame({k: np.log1p(v) for k, v in out.items()})


def oracle_frame(history: Any, pop: Any, rows: np.ndarray, at: np.ndarray) -> pd.DataFrame:
    """The perfect record's features of each (case row, truth day)."""
    from cities.process import KIND

    cases = len(pop.opened_day)
    parts = [stream_features(history.call_case, history.call_day, rows, at, "call", cases)]
    for name in STREAMS:
        chosen = history.event_kind == KIND[name]
        parts.append(
            stream_features(history.event_case[chosen], history.event_day[chosen], rows, at, name, cases)
        )
    amount = pop.amount[rows].astype(float)
    profile = pd.DataFrame(
        {
            "age": np.log1p(at - pop.opened_day[rows]),
            "parties": np.log(pop.parties[rows]),
            "amount": np.log1p(np.nan_to_num(amount, nan=0.0)),
            "amount_missing": np.isnan(amount).astype(float),
        }
    )
    kinds = [
        pd.get_dummies(pd.Series(values[rows]).astype(str), prefix=prefix, dtype=float)
        for prefix, values in (("category", pop.category), ("district", pop.district))
    ]
    return pd.concat([*parts, profile, *kinds], axis=1)


def fitted_scores(features: pd.DataFrame, truth: pd.DataFrame, train: np.ndarray) -> dict[str, np.ndarray]:
    """Each model's scores on every row, fitted on the training rows."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = truth["escalated"].to_numpy(dtype=bool)
    logistic = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    logistic.fit(features[train], labels[train])
    ceiling = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05, random_state=0)
    ceiling.fit(features[train], truth["p_escalation"].to_numpy()[train])
    return {
        "oracle_logistic": logistic.predict_proba(features)[:, 1],
        "observable_ceiling": ceiling.predict(features),
    }


def judged(truth: pd.DataFrame, scores: dict[str, np.ndarray], dates: Sequence[date]) -> dict[str, Any]:
    """Mean over the dates of each ranking's realised and expected P@5%, and the models' ratios to the
    truth's."""
    rankings = {"truth": truth["p_escalation"].to_numpy(), **scores}
    sums = {name: np.zeros(2) for name in rankings}
    for day in dates:
        on = (truth["as_of"] == day).to_numpy()
        ids = truth.loc[on, "case_id"].tolist()
        labels = truth.loc[on, "escalated"].to_numpy(dtype=float)
        p = truth.loc[on, "p_escalation"].to_numpy()
        for name, score in rankings.items():
            top = in_top_share(score[on], ids, TOP_FRACTION)
            sums[name] += (labels[top].mean(), p[top].mean())
    means = {name: s / len(dates) for name, s in sums.items()}
    figures: dict[str, Any] = {"truth": float(means["truth"][0]), "expected_truth": float(means["truth"][1])}
    for name in MODELS:
        figures[name] = float(means[name][0])
        figures[f"{name}_ratio"] = float(means[name][0] / means["truth"][0])
        figures[f"{name}_expected_ratio"] = float(means[name][1] / means["truth"][1])
    return figures


def run_scenario(name: str, config: Any) -> dict[str, Any]:
    """Simulate the scenario's history and truth, build the perfect record's features and judge the
    models on the generalization benchmark's dates."""
    from cities.export import case_ids
    from cities.hawkes import simulate_city

    city = simulate_city(config)
    pop, history = city.population, city.history
    truth = city.truth_escalation.copy()
    truth["as_of"] = pd.to_datetime(truth["as_of"]).dt.date
    row_of = pd.Series(np.arange(len(pop.opened_day)), index=case_ids(pop, config.start))
    rows = truth["case_id"].map(row_of).to_numpy()
    at = np.array([(d - config.start).days for d in truth["as_of"]])
    dates = evaluation_dates(sorted(set(truth["as_of"])))
    train = (truth["as_of"] < dates[0] - timedelta(days=30)).to_numpy()
    scores = fitted_scores(oracle_frame(history, pop, rows, at), truth, train)
    return {"name": name, "train_as_of": dates[0].isoformat(), **judged(truth, scores, dates)}


def drawn_config(known: dict[str, Any], name: str) -> Any:
    """The configuration of a scenario or of its draw `name~k` (the seed moved by k × DRAW_SEED_STEP)."""
    config = known[base_name(name)]
    if DRAW_MARK not in name:
        return config
    return dataclasses.replace(config, seed=config.seed + DRAW_SEED_STEP * int(name.split(DRAW_MARK)[1]))


def merged(earlier: Sequence[dict[str, Any]], now: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The scenarios run now, in place of their earlier rows, after the earlier ones kept."""
    fresh = {s["name"] for s in now}
    return [*(s for s in earlier if s["name"] not in fresh), *now]


def pooled_rows(scenarios: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per city: a city's draws pooled (every draw has the same 7 dates, so the pooled P@5% is the
    mean of the draws'), with how many draws it holds."""
    rows = []
    for city, draws in by_city(scenarios).items():
        mean = {k: float(np.mean([d[k] for d in draws])) for k in ("truth", "expected_truth", *MODELS)}
        expected = {
            m: float(np.mean([d[f"{m}_expected_ratio"] * d["expected_truth"] for d in draws])) for m in MODELS
        }
        row: dict[str, Any] = {"name": city, "draws": len(draws), "truth": mean["truth"]}
        for m in MODELS:
            row[m] = mean[m]
            row[f"{m}_ratio"] = mean[m] / mean["truth"]
            row[f"{m}_expected_ratio"] = expected[m] / mean["expected_truth"]
        rows.append(row)
    return rows


def rule_of(generalization: dict[str, Any], city: str, draws: Sequence[str]) -> float | None:
    """The rule's P@5% on the same draws of the city in bench/generalization.json (None unless every
    draw is there)."""
    found = {s["name"]: s["rule"] for s in generalization.get("scenarios", [])}
    if not all(d in found for d in draws):
        return None
    return float(np.mean([found[d] for d in draws]))


def render(results: dict[str, Any], generalization: dict[str, Any] | None = None) -> str:
    """The results as Markdown, a city's draws pooled into one row."""
    generalization = generalization or {}
    lines = [
        "# The observable ceiling of the Hawkes cities",
        "",
        f"`{results['command']}` ({results['date']}). Features of a perfect record (every call with its true "
        "case, every event: counts and sums decayed over 3, 7 and 30 days; age, parties, amount, category, "
        "district) from the generator's history, fitted on the truth dates whose 30 days closed before the "
        "generalization benchmark's first evaluation date, judged on its 7 dates "
        "(P@5%, realised / expected).",
        "",
        "| scenario | draws | truth P@5% | oracle logistic × truth | observable ceiling × truth "
        "| ceiling × rule |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in pooled_rows(results["scenarios"]):
        names = [d["name"] for d in results["scenarios"] if base_name(d["name"]) == s["name"]]
        rule = rule_of(generalization, s["name"], names)
        versus_rule = f"{s['observable_ceiling'] / rule:.2f}×" if rule else "–"
        lines.append(
            f"| {s['name']} | {s['draws']} | {s['truth']:.3f} | {s['oracle_logistic_ratio']:.2f}× / "
            f"{s['oracle_logistic_expected_ratio']:.2f}× | {s['observable_ceiling_ratio']:.2f}× / "
            f"{s['observable_ceiling_expected_ratio']:.2f}× | {versus_rule} |"
        )
    lines += [
        "",
        "Oracle logistic: a logistic regression on the escalations, as a product would learn, but from the "
        "perfect record. Observable ceiling: boosted trees fitted to the true probabilities, the best any "
        "function of the perfect record does; the rest of the truth lies in what no record shows "
        "(temperament, fading, district shocks). Compare the product's figures in bench/generalization.md. "
        "Ceiling × rule: the ceiling's realised P@5% over the rule's on the same draws "
        "(bench/generalization.json; – where a draw is not there): issue 16 asks the product for 1.6×.",
        "",
        f"Machine: {results['machine']['cpu_model']}; code {results['code']['commit']}.",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the chosen Hawkes scenarios and write bench/observable_ceiling.md and .json."""
    from cities.scenario import scenarios

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", default="", help="comma-separated Hawkes scenarios (default: all)")
    parser.add_argument("--cases", type=int, default=8_000)
    parser.add_argument("--days", type=int, default=540)
    parser.add_argument("--out", type=Path, default=REPO / "bench")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="write the Markdown again from the stored results (after bench/generalization.json changed)",
    )
    args = parser.parse_args(argv)
    stored = args.out / "observable_ceiling.json"
    general = args.out / "generalization.json"
    generalization = json.loads(general.read_text(encoding="utf-8")) if general.exists() else {}
    if args.render_only:
        text = render(json.loads(stored.read_text(encoding="utf-8")), generalization)
        (args.out / "observable_ceiling.md").write_text(text, encoding="utf-8")
        return
    known = dict(scenarios())
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()] or list(known)
    results = []
    for name in names:
        results.append(run_scenario(name, sized_config(drawn_config(known, name), args.cases, args.days)))
        print(json.dumps(results[-1]), flush=True)
    earlier = json.loads(stored.read_text(encoding="utf-8"))["scenarios"] if stored.exists() else []
    results = merged(earlier, results)
    figures = {
        "command": "python -m bench.observable_ceiling"
        + (f" --scenarios {args.scenarios}" if args.scenarios else "")
        + f" --cases {args.cases} --days {args.days}",
        "date": date.today().isoformat(),
        "scenarios": results,
        "machine": machine(),
        "code": code_state(("cities",)),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "observable_ceiling.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    (args.out / "observable_ceiling.md").write_text(render(figures, generalization), encoding="utf-8")
    print(render(figures, generalization))


if __name__ == "__main__":
    main()
