"""The one configuration object, built at entry points from defaults, env (FENGQIAO_*), `.env` and CLI."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PositiveFloat, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.vocabulary import DEFAULT_ESCALATION_EVENTS, EventType

# The model grid's candidates, simplest first (the order the one-standard-error rule prefers).
CandidateName = Literal[
    "logistic_foundation",
    "logistic",
    "logistic_sparse",
    "logistic_blend",
    "logistic_text",
    "trees",
    "trees_tuned",
    "blend",
]

# Never passed on to other processes: they read secrets from their own environment.
SECRET_SETTINGS = frozenset({"pseudonym_key", "alert_webhook_url"})


class Settings(BaseSettings):
    """Fengqiao's configuration; frozen once built."""

    model_config = SettingsConfigDict(env_prefix="FENGQIAO_", env_file=".env", extra="ignore", frozen=True)

    home: Path = Field(Path(".fengqiao"), description="Folder for the embedded store, MLflow and lists.")
    warehouse_url: str = Field("", description="SQLAlchemy URL of the store; default SQLite under home.")
    mlflow_tracking_uri: str = Field("", description="MLflow tracking URI; default SQLite under home.")
    horizon_days: int = Field(30, ge=1, description="Label horizon: escalation within this many days.")
    escalation_events: tuple[EventType, ...] = Field(
        DEFAULT_ESCALATION_EVENTS,
        min_length=1,
        description="Event types that count as an escalation (the label); the contract's by default.",
    )
    list_k: int = Field(100, ge=1, description="List length analysts work through (top-k metrics).")
    list_top_fraction: float = Field(0.05, gt=0, le=1, description="Top share of the list for metrics.")
    band_high: float = Field(0.20, gt=0, lt=1, description="Calibrated score from which a case is 'high'.")
    band_medium: float = Field(
        0.08, gt=0, lt=1, description="Calibrated score from which a case is 'medium'."
    )
    seed: int = Field(42, description="Seed of every random choice (simulation, sampling, searches).")
    pseudonym_key: SecretStr | None = Field(None, description="HMAC key for pseudonyms (never commit).")
    model_name: str = Field("fengqiao-escalation", description="Registered model name in MLflow.")
    experiment_name: str = Field("fengqiao-escalation", description="MLflow experiment of the training runs.")
    snapshot_every_days: int = Field(7, ge=1, description="Spacing of training snapshot dates.")
    training_window_days: int = Field(365, ge=30, description="How far back training snapshots reach.")
    burn_in_days: int = Field(30, ge=0, description="Days of history needed before a first snapshot.")
    validation_share: float = Field(0.25, gt=0, lt=1, description="Share of snapshot dates held out.")
    n_folds: int = Field(3, ge=1, description="Rolling-origin folds the held-out dates are split into.")
    calibration_share: float = Field(
        0.25, gt=0, lt=1, description="Share of a fold's matured dates kept to calibrate, not to fit."
    )
    calibration_method: Literal["sigmoid", "isotonic"] = Field(
        "sigmoid", description="How scores become probabilities: a sigmoid (Platt) or isotonic map."
    )
    refit_final: bool = Field(
        False,
        description="After the chosen model's probability map is fitted on the latest dates, fit the model "
        "again on every matured date, keeping the map (a sigmoid's level set again on the latest dates), so "
        "the model learns from its latest months too. Off: on the benchmark's cities it raised the Hawkes "
        "cities' lists and lowered both demo draws' (python -m bench.refit_check; README).",
    )
    candidates: tuple[CandidateName, ...] = Field(
        ("logistic_blend",),
        min_length=1,
        description="Model grid to compare by mean precision at the top over the rolling folds; a simpler "
        "candidate within one standard error of the best wins (simplest first: logistic_foundation, "
        "logistic, logistic_sparse, logistic_blend, logistic_text, trees, trees_tuned, blend). "
        "`logistic_foundation` reads a few core features, `logistic` every feature with an L2 penalty, "
        "`logistic_sparse` every feature with an L1 penalty that keeps few of them, and `logistic_blend` "
        "averages the calibrated probabilities of those two (the default logistic: on the feature lab's 7 "
        "cities it was nearer the truth than the core logistic alone on 6 and within 0.005 on the 7th, "
        "bench/feature_lab.md; with the core logistic in the grid the one-standard-error rule picked it on "
        "every city, so it is left out by default). `trees_tuned` searches the trees' hyperparameters; "
        "`blend` averages the calibrated probabilities of the sparse (else L2) logistic and the trees "
        "(tuned when in the grid); the search is judged on the folds that also choose, so its figure is "
        "optimistic, and the one-standard-error rule keeps the simpler model when the evidence is thin. "
        "The trees and their blend left the default grid on the generalization benchmark's 37 grid runs "
        "(7 cities, 8,000 and 20,000 cases): the folds chose them 4 times, and where they were chosen the "
        "logistic blend's own list was as near the truth in expectation (bench/grid_cost.md), "
        "while their search took most of the training time; add them (e.g. "
        '\'["logistic_blend","trees_tuned","blend"]\') to let the folds choose on your data. '
        "`logistic_text` also weighs the case's words (opt in: names written in free text can become terms "
        "of the model; use it where texts are name-masked at source).",
    )
    training_max_rows: int = Field(
        150_000,
        ge=0,
        description="Above this many training-matrix rows, the matrix keeps every escalation and a seeded "
        "sample of the other rows (the same share on every date; a row is kept when a keyed hash of the "
        "seed, its case and its date falls below the share, so whole or by district parts the same rows), "
        "each kept row weighted by its date's rows of its class over those kept; where escalations alone "
        "would fill more than half of it, they are sampled too, to half. The dropped rows are never "
        "stacked in memory. The fits, probability maps, every fold metric, the fairness audit, the champion "
        "comparison and the drift reference take the weights. The shares are recorded with the model "
        "(`negative_rate`, `escalation_rate`). 0: never subsample. It bounds the grid's and the matrix's "
        "memory (bench/training_results.md, docs/design/partitions.md).",
    )
    training_threads: int = Field(
        1,
        ge=0,
        description="Threads each model fit of training may use (OpenMP of the trees, BLAS of the "
        "logistic); 0: the libraries' default (every core). One by default: on a shared 2-core machine a "
        "tree fit with two threads took 8-12 times the wall time of one (and 12 times the CPU), its threads "
        "waiting on each other whenever one is descheduled; one keeps the grid's time predictable.",
    )
    training_jobs: int = Field(
        0,
        ge=0,
        description="Processes the rolling folds of a candidate are fitted in at once while the model grid "
        "is compared (each fit with training_threads threads; the folds' prepared rows are shared through "
        "files, not copied); 0: one per usable core, at most one per fold. The models and figures are the "
        "same whatever the number; 1 fits the folds one after the other in the training process.",
    )
    training_helper_min_records: int = Field(
        100_000,
        ge=0,
        description="Stored records (cases, events and calls known at the training date) from which "
        "training over the whole store shares the deciding of the history's call links and the building of "
        "its snapshots with helper processes (training_jobs - 1 of them, each reading the store itself: a "
        "copy of the loaded store per helper), each taking the latest chunks; the links and the matrix are "
        "the same. Below it a helper's start (an interpreter, the "
        "imports, its read of the store: about 4 s on 2 cores) would cost more than it saves.",
    )
    logistic_c: float = Field(0.5, gt=0, description="Inverse L2 strength of the logistic regression.")
    logistic_c_grid: tuple[PositiveFloat, ...] = Field(
        (0.02, 0.002),
        description="Stronger L2 strengths the logistic candidates also try on the rolling folds (the best "
        "mean precision at the top wins, logistic_c on ties); empty: logistic_c only. Across the feature "
        "lab's cities the best strength differs by city (bench/feature_lab.md).",
    )
    sparse_c_grid: tuple[PositiveFloat, ...] = Field(
        (0.05, 0.02, 0.01, 0.005),
        min_length=1,
        description="`logistic_sparse`: inverse L1 strengths tried on the rolling folds, the first as the "
        "start (the best mean precision at the top wins, the earlier on ties). The L1 penalty keeps few of "
        "the many features; the strength it needs differs by city (bench/feature_lab.md).",
    )
    text_max_terms: int = Field(
        300,
        ge=1,
        description="`logistic_text`: the case document's character n-grams the model weighs, and as many "
        "words.",
    )
    trees_max_iter: int = Field(200, ge=1, description="Boosting iterations of the gradient-boosted trees.")
    trees_learning_rate: float = Field(0.05, gt=0, le=1, description="Learning rate of the trees.")
    trees_max_leaf_nodes: int = Field(15, ge=2, description="Leaves of each tree at most.")
    trees_min_samples_leaf: int = Field(100, ge=1, description="Training cases in each leaf at least.")
    trees_l2: float = Field(1.0, ge=0, description="L2 regularisation of the trees' leaf values.")
    trees_max_features: float = Field(
        1.0, gt=0, le=1, description="Share of the features each split of the trees chooses from."
    )
    tuning_trials: int = Field(
        8,
        ge=1,
        description="`trees_tuned`: hyperparameter settings of the trees that Optuna's TPE sampler tries on "
        "the rolling folds (the first is the trees_* settings); each costs one fit per fold.",
    )
    tuning_startup_trials: int = Field(
        2,
        ge=1,
        description="`trees_tuned`: trials after the first drawn at random before the TPE sampler models the "
        "results. Fixed apart from tuning_trials, so that a search of n trials tries the first n trials of a "
        "longer one: a search the time cap cut short is repeated exactly by setting tuning_trials to the "
        "trials it ran (logged with the model).",
    )
    tuning_timeout_seconds: float = Field(
        1800.0,
        gt=0,
        description="Searches on the rolling folds (`trees_tuned`, the logistics' strengths): a guard "
        "against a runaway search, not its budget. The trial count (`tuning_trials`) decides, so the same "
        "data and settings give the same model on a busy machine as on a quiet one; the clock only stops a "
        "search that runs far past its usual time (the trial under way finishes). A search it stops is "
        "logged as a warning and with the model (MLflow param `search.<candidate>.trials`), and a run with "
        "tuning_trials set to that count tries the same trials and fits the same model.",
    )
    promotion_margin: float = Field(
        0.005,
        ge=0,
        description="Held-out precision at the top a challenger must add to replace the champion.",
    )
    band_high_capacity: int = Field(
        100, ge=1, description="At most this many cases are 'high' on a day (the team's capacity)."
    )
    fairness_min_cases: int = Field(
        50,
        ge=1,
        description="Smaller groups are 'insufficient', not judged (rows held: a subsampled matrix's weights "
        "do not count).",
    )
    fairness_min_positives: int = Field(
        10, ge=1, description="Groups with fewer escalations (rows held) are not judged."
    )
    alert_webhook_url: SecretStr | None = Field(
        None,
        description="URL that receives a JSON POST on failures, holds and drift (a secret: it often "
        "carries a token).",
    )
    daily_cron: str = Field("0 6 * * *", description="When the served daily run starts (Asia/Shanghai).")
    retrain_cron: str = Field("0 5 * * 1", description="When the served weekly retraining starts.")
    language: Literal["zh", "en"] = Field(
        "zh", description="Language of reasons, reports and the model card: zh or en."
    )
    routing_file: Path | None = Field(
        None,
        description="TOML file saying which unit acts on each high and medium case of a list (by district, "
        "town, category and band), in how many days, and each unit's cases a day (examples/routing.toml); "
        "empty: the shipped default (contracts/routing.py).",
    )
    ingest_chunk_rows: int = Field(200_000, ge=1, description="Rows per chunk when streaming a file in.")
    linked_call_features: bool = Field(
        True,
        description="Train on the linked-calls family too (calls without a case number matched to cases by "
        "the linker); costs about a second per day of calls at city size. On: the sparse logistic picks "
        "from it where calls carry the risk (bench/feature_lab.md).",
    )
    extra_feature_families: tuple[Literal["activity", "intake"], ...] = Field(
        ("activity", "intake"),
        description="Optional families training also builds and the candidates read: `activity` (every event "
        "type and channel over 7/30/90/365 days, decayed counts, recency, rates, last types), `intake` (what "
        "is known at opening: the reporter's earlier calls, the grievance the case names, the crowd). With "
        "an L2 penalty they lowered the logistic; the sparse logistic keeps what helps in each city "
        "(bench/feature_lab.md).",
    )
    grievance_window_days: int = Field(
        7, ge=1, description="Emerging grievances: the rolling window of calls naming the same thing."
    )
    grievance_baseline_windows: int = Field(
        8, ge=1, description="Emerging grievances: earlier windows that set a thing's usual level."
    )
    grievance_min_callers: int = Field(
        3, ge=1, description="Emerging grievances: distinct callers a cluster needs before it is shown."
    )
    grievance_emerging_p: float = Field(
        0.05, gt=0, le=1, description="Emerging grievances: shown when this unusual (Poisson tail below)."
    )
    grievance_surge_min_callers: int = Field(
        5, ge=1, description="Emerging grievances: distinct callers a surge needs."
    )
    grievance_surge_p: float = Field(
        1e-4, gt=0, le=1, description="Emerging grievances: a surge's Poisson tail is below this."
    )
    grievance_show_new: bool = Field(
        True,
        description="Emerging grievances: also show a thing no call named in the weeks before from "
        "grievance_min_callers callers (a grievance's first days), before it is unusual against the floor of "
        "one caller a week.",
    )
    grievance_show_after_surge: bool = Field(
        True,
        description="Emerging grievances: also show a thing the week after it surged, while it has "
        "grievance_min_callers callers (a grievance is followed while it dies down).",
    )
    grievance_bare_names: bool = Field(
        True,
        description="Emerging grievances: count a call naming a thing already known in its district by its "
        "name alone, without the suffix that says its kind (顺发 for 顺发花园, 鑫源建工 for "
        "鑫源建筑工程公司).",
    )
    grievance_resembling: bool = Field(
        True,
        description="Emerging grievances: count a call naming no thing with the named grievance of its "
        "district its text clearly resembles (same hotline category, within the window; "
        "features/grievance_resemblance.py), as message-board callers describe a grievance without "
        "naming it.",
    )
    grievance_topics: bool = Field(
        False,
        description="Emerging grievances: also group the calls naming no thing by what they say (topics). "
        "Finds grievances whose callers mostly name nothing, at the price of more clusters per grievance "
        "and about 1.4 false surges a month more on the simulated cities (bench/grievance_quality.md).",
    )
    task_runner: Literal["local", "dask"] = Field(
        "local",
        description="Where training snapshots are built: in this process, or spread over a Dask cluster.",
    )
    dask_address: str = Field(
        "", description="Dask scheduler (e.g. tcp://scheduler:8786); empty starts a local cluster."
    )
    district_parts: int = Field(
        1,
        ge=1,
        description="Scoring a day and training: groups of districts whose features, intake and dormant "
        "cases (training: snapshot rows of every date, written to Parquet) are built apart, each reading "
        "only its own rows from the store (one after another, or as Dask tasks with task_runner = dask), "
        "the call links too, while grievances read only the day's window: no table is read whole. 1 reads "
        "the whole store at once. The list and the training matrix are the same either way.",
    )
    store_mirror: bool = Field(
        True,
        description="Keep the whole store's loaded records as a columnar copy in the home's cache "
        "(cache/store, the owner's only; pseudonymised, as the store): a command reading the whole store "
        "takes the copy when the store's row hashes say it holds the same record versions (on the demo about "
        "0.2 s instead of 1.6 s), else reads the store and copies it. Off: every read goes to the store and "
        "no copy is kept (a machine that must hold no data outside its database).",
    )
    dask_parts: int = Field(
        2,
        ge=1,
        description="With Dask: tasks the snapshot dates are split into (and workers of a local cluster).",
    )
    score_helper: bool = Field(
        True,
        description="`fengqiao score` starts a helper process as it begins that, on the second core while "
        "the command loads its code and builds the day's features, decides the call links of the day's "
        "window the store has not stored and builds the day's emerging grievances; the list takes them (the "
        "grievances when the helper read the same records; on the demo 0.3-2 s of a 6-9 s score, the most "
        "when many days of the window have no stored links). The helper holds a copy of the loaded store. "
        "Off, by district parts or on one core: all in the command's process. The list and the grievances "
        "are the same.",
    )

    earliest_instant: date = Field(
        date(1990, 1, 1), description="Ingest: dates and times before this are quarantined as implausible."
    )
    future_tolerance_days: int = Field(
        1, ge=0, description="Ingest: dates and times later than the run's time plus this are quarantined."
    )
    max_unpacked_mib: int = Field(
        256, ge=1, description="Ingest: an .xlsx file that unpacks to more than this is refused unread."
    )
    dormant_days: int = Field(
        180,
        ge=1,
        description="An open case with no recorded activity for this many days is dormant: not scored, "
        "counted in the manifest and listed apart.",
    )
    login_max_failures: int = Field(
        5, ge=1, description="Dashboard: failed logins (per account or address) before waiting is enforced."
    )
    login_backoff_seconds: int = Field(
        30, ge=1, description="Dashboard: the first wait after too many failures; doubles with each failure."
    )
    session_idle_minutes: int = Field(
        30, ge=1, description="Dashboard: a session idle this long must log in again."
    )
    prefect_startup_timeout_seconds: int = Field(
        300, ge=1, description="How long a command waits for Prefect's temporary local server to start."
    )
    prefect_startup_attempts: int = Field(
        2,
        ge=1,
        description="Starts of Prefect's temporary local server a command tries (each up to "
        "prefect_startup_timeout_seconds) before it leaves the start to Prefect itself.",
    )
    prefect_early_start: bool = Field(
        True,
        description="Start Prefect's temporary local server in the background as a flow command begins, "
        "while the command loads its own code (off: Prefect starts it at the first flow).",
    )
    prefect_shared_server: bool = Field(
        True,
        description="Without PREFECT_API_URL, the flow commands of one Prefect home share one local Prefect "
        "server, started by the first and ended by itself after prefect_server_idle_seconds unused (off: "
        "each command starts Prefect's temporary server and stops it at exit).",
    )
    prefect_server_idle_seconds: int = Field(
        900,
        ge=1,
        description="The shared local Prefect server ends once no command using it is alive and nobody has "
        "called it for this many seconds.",
    )

    @model_validator(mode="before")
    @classmethod
    def _derive_locations(cls, data: Any) -> Any:
        """Fill the store and MLflow locations from the home folder when not given."""
        if not isinstance(data, dict):
            return data
        home = Path(data.get("home") or ".fengqiao").expanduser().resolve()
        data["home"] = home
        if not data.get("warehouse_url"):
            data["warehouse_url"] = f"sqlite:///{home / 'warehouse.db'}"
        if not data.get("mlflow_tracking_uri"):
            data["mlflow_tracking_uri"] = f"sqlite:///{home / 'mlflow.db'}"
        return data

    @field_validator("routing_file", mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any) -> Any:
        """An empty FENGQIAO_ROUTING_FILE means the shipped default, not the current folder."""
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _bands_ordered(self) -> Settings:
        if self.band_medium >= self.band_high:
            raise ValueError("band_medium must be below band_high")
        return self

    def environment(self, only: Iterable[str] | None = None) -> dict[str, str]:
        """These settings (`only` those named, else all) but secrets, as the FENGQIAO_* variables another
        process builds the same settings from: lists and mappings as JSON, unset ones left out."""
        names = set(type(self).model_fields) if only is None else set(only)
        values = self.model_dump(mode="json", include=names - SECRET_SETTINGS)
        return {
            f"{self.model_config['env_prefix']}{name.upper()}": json.dumps(value)
            if isinstance(value, list | dict)
            else str(value)
            for name, value in values.items()
            if value is not None
        }

    @property
    def lists_dir(self) -> Path:
        """Where published list files are written."""
        return self.home / "lists"

    @property
    def inbox_dir(self) -> Path:
        """Where deliveries for the daily run are dropped (processed files move to `done/<date>/`)."""
        return self.home / "inbox"

    @property
    def reports_dir(self) -> Path:
        """Where each daily run writes its report, drift picture and the outcomes of past lists."""
        return self.home / "reports"

    @property
    def mlflow_artifacts_dir(self) -> Path:
        """Where MLflow stores artifacts when tracking locally."""
        return self.home / "mlartifacts"

    @property
    def model_cache_dir(self) -> Path:
        """Where loaded models are kept as signed local copies (pipelines.champions)."""
        return self.home / "cache" / "models"

    @property
    def store_mirror_dir(self) -> Path:
        """Where the whole store's loaded records are kept as a columnar copy (pipelines.store_mirror)."""
        return self.home / "cache" / "store"

    @property
    def local_key_file(self) -> Path:
        """Where the demo keeps a generated pseudonymisation key (outside the repository)."""
        return self.home / "pseudonym.key"
