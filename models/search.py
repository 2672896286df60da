"""Hyperparameter search: Optuna's TPE sampler under a budget of trials for the gradient-boosted trees,
or a few given points tried in order (the logistic regression's L2 strength).

The objective is given by the caller (`models.train`: mean precision at the top share over the rolling
folds' test dates, the figure candidates are chosen by, with each fold's figure); this module owns the
search space, the sampler, the budget and the record of every trial (`Trial`: what a shorter search
would have found can be read from a longer one's, see `SearchBudget`). The first trial is the starting
hyperparameters (the settings' trees), so the search never ends below them; with the same seed,
objective and budget it tries the same trials, unless the wall-clock cap cut it short.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

# name: (type, low, high, log scale) -- HistGradientBoostingClassifier's hyperparameters; a fit costs about
# max_iter x max_leaf_nodes, so the ranges stop where a trial would cost several times the default trees
SPACE: dict[str, tuple[type, float, float, bool]] = {
    "learning_rate": (float, 0.01, 0.3, True),
    "max_iter": (int, 30, 300, True),
    "max_leaf_nodes": (int, 4, 31, True),
    "min_samples_leaf": (int, 10, 1000, True),
    "l2_regularization": (float, 1e-3, 10.0, True),
    "max_features": (float, 0.2, 1.0, False),
}
MAX_STARTUP_TRIALS = 10

# params -> (the value to maximise, each fold's value, what was fitted)
Objective = Callable[[dict[str, Any]], tuple[float, tuple[float, ...], Any]]


@dataclass(frozen=True)
class SearchBudget:
    """How much a search may try: at most `trials` settings, and no new one after `timeout_seconds`;
    with `grid`, the start and then those points in order instead of sampled ones. `startup_trials`:
    the sampled trials drawn at random before TPE models the results (default: `startup_trials(trials)`);
    given, a search of n trials tries the first n trials of any longer one, so a search the clock cut
    short is repeated by one of the trials it ran."""

    trials: int
    timeout_seconds: float
    grid: tuple[dict[str, Any], ...] = ()
    startup_trials: int | None = None


@dataclass(frozen=True)
class Trial:
    """One tried setting: its number (1: the start), hyperparameters, objective value with each fold's,
    and the wall seconds its objective took."""

    number: int
    params: dict[str, Any]
    value: float
    folds: tuple[float, ...]
    seconds: float


@dataclass(frozen=True)
class Search:
    """The best hyperparameters found, their objective value, what the objective fitted for them, and
    every trial in the order tried."""

    params: dict[str, Any]
    value: float
    trials: int
    timed_out: bool
    fitted: Any
    history: tuple[Trial, ...] = ()


def tried(objective: Objective, params: dict[str, Any], history: list[Trial]) -> tuple[float, Any]:
    """The objective's value and fit at `params`, the trial added to `history`."""
    began = time.perf_counter()
    value, folds, fitted = objective(params)
    seconds = round(time.perf_counter() - began, 3)
    history.append(Trial(len(history) + 1, dict(params), float(value), tuple(map(float, folds)), seconds))
    return value, fitted


def trials_frame(searches: dict[str, Search]) -> pd.DataFrame:
    """Every trial of the named searches, a row each: the candidate, the trial's number, value, fold values,
    seconds and hyperparameters (a column each), and whether it was the one chosen."""
    rows = []
    for name, found in searches.items():
        for trial in found.history:
            rows.append(
                {
                    "candidate": name,
                    "trial": trial.number,
                    "value": trial.value,
                    "folds": ",".join(f"{value:.6g}" for value in trial.folds),
                    "seconds": trial.seconds,
                    "chosen": trial.params == found.params and trial.value == found.value,
                    **{key: value for key, value in trial.params.items() if _scalar(value)},
                }
            )
    return pd.DataFrame(rows)


def _scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool)) or value is None


def startup_trials(trials: int) -> int:
    """Trials sampled at random (after the enqueued start) before TPE models the results: a third of the
    budget, at most Optuna's default of 10."""
    return max(1, min(MAX_STARTUP_TRIALS, trials // 3))


def space_around(start: dict[str, Any]) -> dict[str, tuple[type, float, float, bool]]:
    """SPACE, each range widened to hold the starting value (settings may lie outside it)."""
    space = {}
    for name, (kind, low, high, log) in SPACE.items():
        value = start.get(name, low)
        space[name] = (kind, kind(min(low, value)), kind(max(high, value)), log)
    return space


def suggest(trial: Any, space: dict[str, tuple[type, float, float, bool]]) -> dict[str, Any]:
    """One point of the search space, drawn by the trial's sampler."""
    drawn = {}
    for name, (kind, low, high, log) in space.items():
        draw = trial.suggest_int if kind is int else trial.suggest_float
        drawn[name] = draw(name, low, high, log=log)
    return drawn


def grid_points(start: dict[str, Any], budget: SearchBudget) -> list[dict[str, Any]]:
    """The hyperparameters a grid search tries, in order: `start`, then each grid point over it, as many
    as the budget's trials."""
    return [{**start, **point} for point in ({}, *budget.grid)[: budget.trials]]


def grid_search(start: dict[str, Any], objective: Objective, budget: SearchBudget) -> Search:
    """The best of `grid_points`, tried in order until they or the time run out; ties go to the earlier
    trial."""
    began, best, history = time.monotonic(), None, list[Trial]()
    for params in grid_points(start, budget):
        if history and time.monotonic() - began >= budget.timeout_seconds:
            break
        value, fitted = tried(objective, params, history)
        if best is None or value > best.value:
            best = Search(params, value, len(history), False, fitted)
    assert best is not None
    ran = len(history)
    timed_out = ran < min(budget.trials, len(budget.grid) + 1)
    return Search(best.params, best.value, ran, timed_out, best.fitted, tuple(history))


def search(start: dict[str, Any], objective: Objective, budget: SearchBudget, seed: int) -> Search:
    """The hyperparameters (of SPACE widened to hold `start`, over `start`; or of the budget's grid) with
    the highest objective, the first trial being `start` itself; `objective(params)` returns the value to
    maximise and what it fitted. Ties go to the earlier trial."""
    if budget.grid:
        return grid_search(start, objective, budget)
    import optuna  # imported here: only training searches, and loading it costs time

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    startup = budget.startup_trials or startup_trials(budget.trials)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.enqueue_trial({name: start[name] for name in SPACE if name in start})
    best: dict[str, Any] = {}
    space, history = space_around(start), list[Trial]()

    def run(trial: Any) -> float:
        params = {**start, **suggest(trial, space)}
        value, fitted = tried(objective, params, history)
        if not best or value > best["value"]:
            best.update(value=value, params=params, fitted=fitted)
        return value

    began = time.monotonic()
    study.optimize(run, n_trials=1)  # the start always runs, whatever the clock
    left = budget.timeout_seconds - (time.monotonic() - began)
    if budget.trials > 1 and left > 0:
        study.optimize(run, n_trials=budget.trials - 1, timeout=left)
    ran = len(study.trials)
    timed_out = ran < budget.trials and time.monotonic() - began >= budget.timeout_seconds
    return Search(best["params"], best["value"], ran, timed_out, best["fitted"], tuple(history))
