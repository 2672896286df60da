"""Does the demo city's truth (`truth_paths`) match what happens, for new cases as for older ones?

For each seed: the city's hidden history with, at every as-of date, each open case's age, stage and true
probability drawn twice (the city's own draw, and again on other paths); then, over all seeds and dates,
the sum of the probabilities against the escalations that happened within the horizon, by age bucket
(0-6, 7-29, 30+ days open) and by stage, with z by case (a case is open at several dates), and for the 5
riskiest cases of each date and bucket, chosen by the first draw, the sum of both draws: the first is high
by the noise it was chosen on, the second is not (docs/design/simulator.md, "Is the truth right for new
cases?").

    python -m bench.truth_calibration --seeds 201-216 --cases 8000 --days 540 --paths 40
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

import cities.demo.dynamics as dynamics
from cities.demo import SimulationConfig
from cities.demo.cases import draw_cases
from cities.demo.city import city_streams
from cities.demo.config import DAY, ESCALATION_CODES, HORIZON_DAYS
from cities.demo.places import draw_places

AGE_EDGES, AGE_NAMES = [0, 7, 30], ["0-6", "7-29", "30+"]
STAGE_NAMES = {0: "registered", 1: "working", 2: "agreed"}
TOP = 5
OTHER_PATHS_SEED = 99_991  # seed offset of the second, independent draw of the same probabilities


def truth_rows(config: SimulationConfig) -> pd.DataFrame:
    """Every (as-of day, open case) of a city: age bucket, stage, the truth's p, another draw p2 of it,
    and whether the case escalated within the horizon (the city is the one `simulate_city` makes)."""
    drawn: list[pd.DataFrame] = []
    truth = dynamics.truth_probability
    other = dataclasses.replace(config, seed=config.seed + OTHER_PATHS_SEED)

    def recording(state: Any, static: np.ndarray, rows: np.ndarray, day: int, cfg: SimulationConfig) -> Any:
        p = truth(state, static, rows, day, cfg)
        stage = state.stage[rows].copy()
        p2 = truth(state, static, rows, day, other)
        drawn.append(pd.DataFrame({"day": day, "case": rows, "stage": stage, "p": p, "p2": p2}))
        return p

    streams = city_streams(config)
    cases = draw_cases(streams[1], config, draw_places(streams[0]))
    history = dynamics.simulate_history(streams[2], cases, config, truth_of=recording)
    rows = pd.concat(drawn, ignore_index=True)
    span = config.days + HORIZON_DAYS + 1
    hit = np.isin(history.event_code, ESCALATION_CODES)
    keys = np.sort(history.event_case[hit] * span + history.event_day[hit])
    start = rows["case"].to_numpy() * span + rows["day"].to_numpy()
    rows["escalated"] = np.searchsorted(keys, start + HORIZON_DAYS) > np.searchsorted(keys, start)
    age = rows["day"].to_numpy() - cases.opened_sec[rows["case"].to_numpy()] / DAY
    rows["age"] = np.array(AGE_NAMES)[np.searchsorted(AGE_EDGES, age, side="right") - 1]
    rows["stage"] = rows["stage"].map(STAGE_NAMES)
    rows["seed"] = config.seed
    return rows


def calibration(rows: pd.DataFrame, by: str) -> list[dict[str, Any]]:
    """Per group: rows, cases, expected (both draws), realised, and z of realised − expected by case."""
    out = []
    for key, group in rows.groupby(by, sort=False):
        residual = (group["escalated"] - group["p"]).groupby([group["seed"], group["case"]]).sum()
        out.append(
            {
                by: key,
                "rows": len(group),
                "cases": len(residual),
                "expected": round(float(group["p"].sum()), 1),
                "expected_other_draw": round(float(group["p2"].sum()), 1),
                "realised": int(group["escalated"].sum()),
                "z_by_case": round(float(residual.sum() / np.sqrt((residual**2).sum())), 2),
            }
        )
    return out


def figures(rows: pd.DataFrame) -> dict[str, Any]:
    """By age bucket, by stage, and for each date's riskiest cases per age bucket (chosen by `p`)."""
    rank = rows.groupby(["seed", "day", "age"])["p"].rank(ascending=False, method="first")
    return {
        "by_age": calibration(rows, "age"),
        "by_stage": calibration(rows, "stage"),
        f"top_{TOP}_per_date_by_age": calibration(rows[rank <= TOP], "age"),
    }


def _seeds(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last) + 1)) if last else [int(s) for s in text.split(",")]


def main(argv: Sequence[str] | None = None) -> None:
    """Simulate each seed's city and print (and optionally write) the pooled figures as JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", default="201-204", help="a range a-b or a comma-separated list")
    parser.add_argument("--cases", type=int, default=8_000)
    parser.add_argument("--days", type=int, default=540)
    parser.add_argument("--paths", type=int, default=40)
    parser.add_argument("--out", default=None, help="JSON file for the figures")
    args = parser.parse_args(argv)
    rows = pd.concat(
        [
            truth_rows(SimulationConfig(seed=s, n_cases=args.cases, days=args.days, truth_paths=args.paths))
            for s in _seeds(args.seeds)
        ],
        ignore_index=True,
    )
    result = {
        "seeds": args.seeds,
        "cases": args.cases,
        "days": args.days,
        "paths": args.paths,
        **figures(rows),
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
