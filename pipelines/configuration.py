"""The settings translated into the domain's configs: the date policy, the training plan, the model grid
and its hyperparameters, the emerging-grievance rule (into environment variables: `Settings.environment`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import joblib

from contracts.settings import Settings
from features.dictionary import FeatureDoc
from features.grievances import TOPIC, GrievanceConfig
from features.matrix import LOGISTIC_CORE_FEATURES
from models.date_policy import DatePolicy
from models.estimator import Candidate, Kind
from models.search import SearchBudget
from models.train import TrainingPlan


def date_policy(settings: Settings) -> DatePolicy:
    """Which dates a model is trained and judged on, from the settings."""
    return DatePolicy(
        horizon_days=settings.horizon_days,
        snapshot_every_days=settings.snapshot_every_days,
        training_window_days=settings.training_window_days,
        burn_in_days=settings.burn_in_days,
        validation_share=settings.validation_share,
        n_folds=settings.n_folds,
        calibration_share=settings.calibration_share,
    )


def training_plan(settings: Settings) -> TrainingPlan:
    """How models are fitted, calibrated and judged, from the settings."""
    return TrainingPlan(
        date_policy=date_policy(settings),
        calibration_method=settings.calibration_method,
        refit_final=settings.refit_final,
        top_fraction=settings.list_top_fraction,
        list_k=settings.list_k,
        seed=settings.seed,
        max_training_rows=settings.training_max_rows or None,
        threads=settings.training_threads or None,
        jobs=settings.training_jobs or min(joblib.cpu_count(), settings.n_folds),
    )


def hyperparameters(settings: Settings) -> dict[Kind, dict[str, Any]]:
    """Every hyperparameter of each kind of candidate, from the settings (their only defaults)."""
    return {
        "logistic": {"C": settings.logistic_c, "max_terms": settings.text_max_terms},
        "trees": {
            "max_iter": settings.trees_max_iter,
            "learning_rate": settings.trees_learning_rate,
            "max_leaf_nodes": settings.trees_max_leaf_nodes,
            "min_samples_leaf": settings.trees_min_samples_leaf,
            "l2_regularization": settings.trees_l2,
            "max_features": settings.trees_max_features,
            "max_terms": settings.text_max_terms,
        },
        "blend": {},
    }


def model_grid(settings: Settings, every: tuple[FeatureDoc, ...]) -> list[Candidate]:
    """The configured candidates with their hyperparameters, in the configured order."""
    foundation = tuple(d for d in every if d.name in LOGISTIC_CORE_FEATURES)
    params = hyperparameters(settings)
    logistic, trees = params["logistic"], params["trees"]
    no_text = tuple(d for d in every if d.kind != "text")
    budget = SearchBudget(
        settings.tuning_trials,
        settings.tuning_timeout_seconds,
        startup_trials=settings.tuning_startup_trials,
    )
    strength = _strengths([c for c in settings.logistic_c_grid if c != settings.logistic_c], settings)
    known = {
        "logistic_foundation": Candidate(
            "logistic_foundation", "logistic", foundation, logistic, tuning=strength
        ),
        "logistic": Candidate("logistic", "logistic", no_text, logistic, tuning=strength),
        "logistic_sparse": Candidate(
            "logistic_sparse",
            "logistic",
            no_text,
            {**logistic, "C": settings.sparse_c_grid[0], "penalty": "l1"},
            tuning=_strengths(settings.sparse_c_grid[1:], settings),
        ),
        "logistic_text": Candidate("logistic_text", "logistic", every, logistic),
        "trees": Candidate("trees", "trees", no_text, trees),
        "trees_tuned": Candidate("trees_tuned", "trees", no_text, trees, tuning=budget),
    }
    blended_trees = known["trees_tuned" if "trees_tuned" in settings.candidates else "trees"]
    blended_logistic = known["logistic_sparse" if "logistic_sparse" in settings.candidates else "logistic"]
    known["blend"] = Candidate("blend", "blend", no_text, parts=(blended_logistic, blended_trees))
    known["logistic_blend"] = Candidate(
        "logistic_blend", "blend", no_text, parts=(known["logistic_foundation"], known["logistic_sparse"])
    )
    return [known[name] for name in settings.candidates]


def _strengths(others: Sequence[float], settings: Settings) -> SearchBudget | None:
    """The search of a logistic's C: its start, then each of `others` on the folds (none without others)."""
    points = tuple({"C": c} for c in others)
    return SearchBudget(len(points) + 1, settings.tuning_timeout_seconds, points) if points else None


def grievance_config(settings: Settings) -> GrievanceConfig:
    """The emerging-grievance rule with the configured window, guards and thresholds."""
    return GrievanceConfig(
        window_days=settings.grievance_window_days,
        baseline_windows=settings.grievance_baseline_windows,
        min_callers=settings.grievance_min_callers,
        emerging_p=settings.grievance_emerging_p,
        surge_min_callers=settings.grievance_surge_min_callers,
        surge_p=settings.grievance_surge_p,
        show_new=settings.grievance_show_new,
        show_after_surge=settings.grievance_show_after_surge,
        bare_names=settings.grievance_bare_names,
        resembling=settings.grievance_resembling,
        thing_kinds=(*GrievanceConfig().thing_kinds, *((TOPIC,) if settings.grievance_topics else ())),
    )
