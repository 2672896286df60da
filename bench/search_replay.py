"""What a shorter hyperparameter search would have chosen, read from the trials of a longer one.

From the repository root::

    python -m bench.search_replay bench/generalization.json [more.json ...] [--candidate trees_tuned]

A search of n trials tries the first n trials of any longer one (`models.search.SearchBudget`), so the
trials `bench.generalization` keeps per city (`search_trials`, logged with every model as MLflow's
`search_trials` table) say, for every n, which setting the shorter search would have chosen, how far its
figure falls below the full search's and the share of the search's seconds it would have cost. Where
it chooses the same setting the model is the same; where not, and the candidate won or came within the
one-standard-error rule of the chosen, only a run with `FENGQIAO_TUNING_TRIALS=n` tells the lists.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bench.common import markdown_table


def replay(trials: pd.DataFrame) -> pd.DataFrame:
    """Per number of trials n (1 to all): the trial the first n would choose (the best value, ties to the
    earlier), its value, how far it falls below the full search's best, whether it is the same trial,
    and the first n trials' share of the search's seconds."""
    ordered = trials.sort_values("trial").reset_index(drop=True)
    values, seconds = ordered["value"].to_numpy(dtype=float), ordered["seconds"].to_numpy(dtype=float)
    best_of_all = int(values.argmax())  # argmax keeps the earliest of equal values
    rows = []
    for n in range(1, len(ordered) + 1):
        best = int(values[:n].argmax())
        rows.append(
            {
                "trials": n,
                "chosen_trial": int(ordered.loc[best, "trial"]),
                "value": values[best],
                "below_full": values[best_of_all] - values[best],
                "same_as_full": best == best_of_all,
                "seconds_share": seconds[:n].sum() / seconds.sum() if seconds.sum() > 0 else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def city_replays(records: Sequence[dict[str, Any]], candidate: str) -> pd.DataFrame:
    """`replay` of the candidate's search in every city record that kept its trials, with the city's name,
    the grid's chosen candidate and its validation figure."""
    frames = []
    for record in records:
        trials = pd.DataFrame(record.get("search_trials") or [])
        if trials.empty or candidate not in set(trials["candidate"]):
            continue
        found = replay(trials[trials["candidate"] == candidate])
        chosen = next(row for row in record["grid"] if row.get("chosen"))
        found.insert(0, "city", record["name"])
        found["grid_chose"] = chosen["candidate"]
        found["chosen_value"] = chosen["precision_at_k"]
        frames.append(found)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def summary(replays: pd.DataFrame) -> pd.DataFrame:
    """Per number of trials over the cities: how many choose as the full search, the mean and largest
    fall below it, and the mean share of its seconds."""
    return (
        replays.groupby("trials")
        .agg(
            cities=("city", "nunique"),
            same_as_full=("same_as_full", "sum"),
            below_full_mean=("below_full", "mean"),
            below_full_max=("below_full", "max"),
            seconds_share=("seconds_share", "mean"),
        )
        .reset_index()
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Print the replay of the named results files' searches."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("results", nargs="+", type=Path, help="bench.generalization results (JSON)")
    parser.add_argument("--candidate", default="trees_tuned")
    args = parser.parse_args(argv)
    records = [r for path in args.results for r in json.loads(path.read_text("utf-8"))["scenarios"]]
    replays = city_replays(records, args.candidate)
    if replays.empty:
        files = ", ".join(map(str, args.results))
        raise SystemExit(f"no city in {files} kept the trials of {args.candidate}")
    print(markdown_table(summary(replays)))
    print(markdown_table(replays))


if __name__ == "__main__":
    main()
