"""Reading what a shorter search would have chosen from a longer one's trials."""

from __future__ import annotations

import pandas as pd

from bench.search_replay import city_replays, replay, summary


def _trials(values: list[float], seconds: list[float], candidate: str = "trees_tuned") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "candidate": candidate,
            "trial": range(1, len(values) + 1),
            "value": values,
            "seconds": seconds,
        }
    )


def test_each_prefix_of_the_trials_chooses_its_best_and_ties_go_to_the_earlier() -> None:
    found = replay(_trials([0.30, 0.28, 0.33, 0.33, 0.31], [4, 2, 1, 2, 1]))
    assert found["chosen_trial"].tolist() == [1, 1, 3, 3, 3]
    assert found["same_as_full"].tolist() == [False, False, True, True, True]
    assert found["below_full"].round(6).tolist() == [0.03, 0.03, 0.0, 0.0, 0.0]
    assert found["seconds_share"].tolist() == [0.4, 0.6, 0.7, 0.9, 1.0]


def test_cities_without_the_candidates_trials_are_left_out_and_the_summary_counts_the_rest() -> None:
    grid = [{"candidate": "logistic_blend", "precision_at_k": 0.35, "chosen": True}]
    records = [
        {"name": "a", "grid": grid, "search_trials": _trials([0.2, 0.3], [1, 1]).to_dict("records")},
        {"name": "b", "grid": grid, "search_trials": _trials([0.4, 0.3], [3, 1]).to_dict("records")},
        {"name": "c", "grid": grid},  # run before trials were kept
        {"name": "d", "grid": grid, "search_trials": _trials([0.5], [1], "other").to_dict("records")},
    ]
    replays = city_replays(records, "trees_tuned")
    assert replays["city"].unique().tolist() == ["a", "b"]
    assert replays["grid_chose"].eq("logistic_blend").all() and replays["chosen_value"].eq(0.35).all()
    table = summary(replays).set_index("trials")
    assert table.loc[1, "same_as_full"] == 1 and table.loc[2, "same_as_full"] == 2
    assert round(table.loc[1, "below_full_max"], 6) == 0.1
    assert table.loc[1, "seconds_share"] == (0.5 + 0.75) / 2
