"""How much of the product's gap to the truth is the sample size (issue 16): the generalization
benchmark's cities at a larger size beside the same scenarios at the benchmark's 8,000 cases.

The larger run is `python -m bench.generalization --scenarios S --cases N --out DIR` (and optionally
`python -m bench.observable_ceiling --scenarios S --cases N --out DIR`), written to a folder of its own
so that bench/generalization.md/.json stay the 8,000-case table. This module copies those results, the
8,000-case rows of the same scenarios from bench/generalization.json and bench/observable_ceiling.json
(and, when given, a rerun at 8,000 cases on the same code) into bench/generalization_scale.json and
writes bench/generalization_scale.md: per scenario and size, the product's P@5% against the truth
(realised and expected) and the rule, the recalls, the grid's choice and validation, the training time.

    python -m bench.generalization_scale --large /tmp/out --small-rerun /tmp/out8 --note "load 4-8"
    python -m bench.generalization_scale --render          # the md again from the json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import REPO
from bench.generalization_figures import TARGET_MEAN_TRUTH, TARGET_TRUTH, overall, pooled
from bench.generalization_report import _num, _times
from bench.generalization_report import render as render_run
from bench.generalization_scenarios import DRAW_MARK, base_name, by_city
from bench.observable_ceiling import pooled_rows

JSON_NAME, MD_NAME = "generalization_scale.json", "generalization_scale.md"


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def of_cities(rows: Sequence[dict[str, Any]], cities: set[str]) -> list[dict[str, Any]]:
    """The rows (scenarios or their draws) of the named cities."""
    return [r for r in rows if base_name(r["name"]) in cities]


def assembled(
    large: dict[str, Any],
    small: dict[str, Any],
    large_oracle: dict[str, Any] | None,
    small_oracle: dict[str, Any] | None,
    small_rerun: dict[str, Any] | None,
    notes: Sequence[str],
) -> dict[str, Any]:
    """The figures to keep: the large run whole, and the same cities' rows of the 8,000-case results."""
    cities = {base_name(s["name"]) for s in large["scenarios"]}
    return {
        "date": date.today().isoformat(),
        "notes": list(notes),
        "large": large,
        "small": {
            "source": "bench/generalization.json",
            "command": small["command"],
            "code": small["code"],
            "scenarios": of_cities(small["scenarios"], cities),
        },
        "small_rerun": small_rerun,
        "oracle": {
            "large": large_oracle,
            "small": None
            if small_oracle is None
            else {
                "source": "bench/observable_ceiling.json",
                "command": small_oracle["command"],
                "scenarios": of_cities(small_oracle["scenarios"], cities),
            },
        },
    }


def _grid(row: dict[str, Any]) -> str:
    """The grid's validation P@5% per candidate (± its standard error), the chosen one in bold."""
    parts = []
    for g in row.get("grid", []):
        text = f"{g['candidate']} {g['precision_at_k']:.3f} ± {g['precision_at_k_se']:.3f}"
        parts.append(f"**{text}**" if g.get("chosen") else text)
    return "; ".join(parts) or "–"


def _line(label: str, cases: int, code: str, s: dict[str, Any]) -> str:
    recall = f"{_num(s.get('product_recall_new'), 2)} / {_num(s.get('product_recall_ongoing'), 2)}"
    train = f"{s['seconds']['train'] / 60:.1f}" if "train" in s["seconds"] else "–"
    return (
        f"| {label} | {cases:,} | {code} | {s['open_cases']:,.0f} | {_num(s['truth'])} | "
        f"**{_num(s['product'])}** | **{_times(s['ratio_to_truth'])}** | "
        f"{_times(s.get('expected_ratio_to_truth'))} | {_times(s['ratio_to_rule'])} | {recall} | "
        f"{s['candidate']} | {train} |"
    )


def comparison(results: dict[str, Any]) -> list[str]:
    """Per city: its first draw at 8,000 cases (as in bench/generalization.json and, when rerun, on the
    large run's code), its three draws pooled, then each draw of the large run and, when several, their
    pool."""
    large, small, rerun = results["large"], results["small"], results.get("small_rerun")
    n_large, n_small = large["settings"]["cases"], 8_000
    lines = [
        "| city, draw | cases | code | open cases / date | truth P@5% | product P@5% | × truth "
        "| expected × truth | × rule | recall new / ongoing | chosen | train min |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    grids = []
    for city, rows in by_city(large["scenarios"]).items():
        draws = [r for r in small["scenarios"] if base_name(r["name"]) == city]
        for r in (r for r in draws if r["name"] == city):
            lines.append(_line(f"{city}, first draw", n_small, "earlier (see notes)", r))
            grids.append(f"- {city}, {n_small:,}, first draw (earlier code): {_grid(r)}")
        for r in (r for r in (rerun or {}).get("scenarios", []) if r["name"] == city):
            commit = r.get("commit", rerun["code"]["commit"])
            lines.append(_line(f"{city}, first draw, rerun", n_small, commit, r))
            grids.append(f"- {city}, {n_small:,}, first draw rerun: {_grid(r)}")
        lines += _pooled_lines(draws, f"{city}, {{}} draws pooled", n_small, "earlier")
        for r in rows:
            label = "first draw" if r["name"] == city else f"draw {r['name'].split(DRAW_MARK)[1]}"
            commit = r.get("commit", large["code"]["commit"])
            lines.append(_line(f"**{city}, {label}**", n_large, commit, r))
            grids.append(f"- {city}, {n_large:,}, {label}: {_grid(r)}")
        lines += _pooled_lines(rows, f"**{city}, {{}} draws pooled**", n_large, "")
    return [
        *lines,
        "",
        "The grid's validation P@5% (mean over its time-ordered folds ± standard error; chosen in bold):",
        "",
        *grids,
    ]


def merged_runs(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Several runs of bench.generalization at one size as one: the first's settings and record, every
    run's scenarios (each with its run's commit), the summary over them all and each run's command. A run
    that is itself merged keeps its scenarios' commits and its runs."""
    scenarios = [{"commit": run["code"]["commit"], **s} for run in runs for s in run["scenarios"]]
    each = [one for run in runs for one in run.get("runs", [run])]
    return {
        **runs[0],
        "command": "; ".join(one["command"] for one in each),
        "scenarios": scenarios,
        "summary": overall(scenarios),
        "runs": [{k: one[k] for k in ("command", "date", "code", "machine")} for one in each],
    }


def _pooled_lines(rows: Sequence[dict[str, Any]], label: str, cases: int, code: str) -> list[str]:
    """The table's line of a city's draws pooled (`label` formatted with their count), if it has several."""
    return [_line(label.format(p["draws"]), cases, code, p) for p in pooled(rows) if p.get("draws")]


def oracle_lines(results: dict[str, Any]) -> list[str]:
    """The oracle logistic and the observable ceiling at both sizes (draws pooled), when measured."""
    oracle = results["oracle"]
    sized = [(label, o) for label, o in (("8,000", oracle["small"]), ("large", oracle["large"])) if o]
    if not oracle["large"]:
        return []
    cases = f"{results['large']['settings']['cases']:,}"
    lines = [
        "| city | cases | draws | truth P@5% | oracle logistic × truth | observable ceiling × truth |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, o in sized:
        for row in pooled_rows(o["scenarios"]):
            lines.append(
                f"| {row['name']} | {cases if label == 'large' else label} | {row['draws']} | "
                f"{row['truth']:.3f} | {row['oracle_logistic_ratio']:.2f}× / "
                f"{row['oracle_logistic_expected_ratio']:.2f}× | {row['observable_ceiling_ratio']:.2f}× / "
                f"{row['observable_ceiling_expected_ratio']:.2f}× |"
            )
    return lines


def render(results: dict[str, Any]) -> str:
    """The comparison as Markdown, then the large run as bench.generalization writes it."""
    large = results["large"]
    lines = [
        "# Generalization at a larger city: how much of the gap to the truth is the sample size?",
        "",
        f"The same scenarios at {large['settings']['cases']:,} cases (`{large['command']}`, "
        f"{large['date']}, code {large['code']['commit']}) beside the generalization benchmark's 8,000 "
        "(bench/generalization.json). A different size is a different draw of the city (the same seed "
        "draws other cases), and one draw's ratio to the truth moves by about ±0.07 realised (the three "
        "draws of hawkes_parties at 8,000 read 0.92×, 0.87×, 0.78×), less expected: single-draw "
        f"differences smaller than that are noise. Targets of issue 16: every city ≥ {TARGET_TRUTH}× the "
        f"truth, mean ≥ {TARGET_MEAN_TRUTH}×.",
        "",
        "× truth: the product's P@5% over the truth's (mean over 7 dates); expected × truth: the mean true "
        "probability of the product's top 5% over that of the truth's top (without the noise of which "
        "cases escalated); recall new / ongoing: the product's, among escalating cases opened fewer than 7 "
        "days before the date / older.",
        "",
        *comparison(results),
        "",
    ]
    oracle = oracle_lines(results)
    if oracle:
        lines += [
            "The oracle logistic (a logistic regression on the escalations fitted on a perfect record) "
            "and the observable ceiling (trees fitted to the true probabilities on it), from "
            "`python -m bench.observable_ceiling` (realised / expected; bench/observable_ceiling.md):",
            "",
            *oracle,
            "",
        ]
    lines += ["## Notes", "", *(f"- {n}" for n in results["notes"]), ""]
    appendix = ("\n" + render_run(large)).replace("\n# ", "\n### ").replace("\n## ", "\n#### ")
    lines += [
        f"## The {large['settings']['cases']:,}-case run as bench.generalization writes it",
        "",
        appendix,
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Copy the results into bench/generalization_scale.json and write the md (or only the md again)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--large", type=Path, action="append", default=[], help="an --out folder of a larger run; repeatable"
    )
    parser.add_argument(
        "--small-rerun", type=Path, action="append", default=[], help="an --out folder of a rerun at 8,000"
    )
    parser.add_argument("--note", action="append", default=[], help="a note (load, commands); repeatable")
    parser.add_argument("--out", type=Path, default=REPO / "bench")
    parser.add_argument("--render", action="store_true", help="only rewrite the md from the json")
    args = parser.parse_args(argv)
    if args.render:
        results = _read(args.out / JSON_NAME)
    else:
        if not args.large:
            raise SystemExit("--large DIR is needed (or --render)")
        ceilings = [
            d / "observable_ceiling.json" for d in args.large if (d / "observable_ceiling.json").exists()
        ]
        reruns = [_read(d / "generalization.json") for d in args.small_rerun]
        results = assembled(
            merged_runs([_read(d / "generalization.json") for d in args.large]),
            _read(REPO / "bench" / "generalization.json"),
            _read(ceilings[0]) if ceilings else None,
            _read(REPO / "bench" / "observable_ceiling.json"),
            merged_runs(reruns) if reruns else None,
            args.note,
        )
        (args.out / JSON_NAME).write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    (args.out / MD_NAME).write_text(render(results), encoding="utf-8")
    print(render(results))


if __name__ == "__main__":
    main()
