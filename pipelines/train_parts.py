"""The training matrix built by district parts (`settings.district_parts` > 1, docs/design/partitions.md):
each part reads only its own rows from the store once and writes its snapshot rows of every training date
(the part families' features, the linked calls among them, intake's reading, the labels) to Parquet in a
folder the flow owns; then, date by date, the parts' rows are stacked and intake is finished with the name
endings of every part's mentions. The matrix is the one `features.matrix.training_matrix` builds over the
whole store, row for row and in the same order."""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from prefect import task
from sqlalchemy import false, true

from contracts.settings import Settings
from contracts.timeparse import as_of_instant
from contracts.vocabulary import RecordKind
from features import intake, linked_activity
from features.cohort import escalation_labels, open_cases
from features.context import BaseRates
from features.known import cut
from features.matrix import features_at
from features.partition import PART_FAMILIES, district_groups
from features.sources import FEATURE_COLUMNS
from models.date_policy import training_dates
from models.matrix_dtypes import compact_matrix
from models.sampling import ESCALATION_RATE, RATE, WEIGHT, day_numbers, draws, kept, rates_for, split
from models.train import LABEL
from pipelines.configuration import date_policy
from pipelines.day_parts import ELSEWHERE_COLUMNS, finished_intake, frame_columns, stacked
from pipelines.day_window import city_base_rates_at
from pipelines.link_backfill import backfill_links
from pipelines.runners import run_tasks
from pipelines.runtime import load_sources, open_warehouse, release_memory
from pipelines.stored_links import LINK_WINDOW, recall_links
from pipelines.tasks import IO_TASK
from warehouse.district_parts import district_rows, part_filters, reporters_elsewhere

# Columns of the dates' files read at once when they are stacked (about 6% of the matrix's at 263 columns).
COLUMNS_AT_ONCE = 16
# What the training dates read: when each case was opened.
OPENED_COLUMNS = {
    "cases": ["opened_at", "known_at"],
    "events": ["case_id", "known_at"],
    "hotline": ["call_id", "known_at"],
}

Progress = Callable[[Iterable], Iterable]


@dataclass(frozen=True)
class Sample:
    """The rows a subsampled matrix keeps: the shares of non-escalations and of escalations, each file's
    mask of kept rows, and the kept rows' weights in file order (`models.sampling.kept`)."""

    rate: float
    keep: list[np.ndarray]
    weights: np.ndarray
    escalation_rate: float = 1.0


def stored_training_dates(settings: Settings, as_of: date) -> list[date]:
    """The snapshot dates of the date policy for training at `as_of`, from when each stored case known
    before it was opened (a narrow read)."""
    where = {RecordKind.CASES: true(), RecordKind.CASE_EVENTS: false(), RecordKind.HOTLINE: false()}
    cases = cut(load_sources(open_warehouse(settings), OPENED_COLUMNS, where=where), as_of).cases
    first_case = cases["opened_at"].min()
    if pd.isna(first_case):
        raise ValueError("the store holds no cases known before the training date: ingest data first")
    return training_dates(first_case.date(), as_of, date_policy(settings))


def part_file(folder: Path, day: date, suffix: str) -> Path:
    """Where a part writes one snapshot date's rows (`parquet`) or intake reading (`intake`)."""
    return folder / f"{day.isoformat()}.{suffix}"


@task(name="district-part-snapshots", **IO_TASK)
def part_snapshots(
    settings: Settings,
    districts: list[str],
    as_of: date,
    dates: list[date],
    families: list[ModuleType],
    rates: dict[date, BaseRates],
    folder: Path,
) -> Path:
    """Snapshot rows of the open cases of some districts (as stored) at every date, from their part of the
    store as known before `as_of` (only its rows are read, `warehouse.district_parts`, and for intake the
    cases of other districts naming its reporters' phones): per date, one Parquet file of the cohort
    columns, the part families' features and the labels, and the pickled intake reading (when intake is
    built), in `folder`."""
    warehouse = open_warehouse(settings)
    stored = cut(load_sources(warehouse, FEATURE_COLUMNS, where=part_filters(districts)), as_of).sources
    if linked_activity in families and dates:
        recall_links(settings, dates[0] - LINK_WINDOW, as_of, stored.hotline, districts)
    elsewhere = None
    if intake in families:
        read = load_sources(warehouse, ELSEWHERE_COLUMNS, where=reporters_elsewhere(districts))
        elsewhere = cut(read, as_of).sources
    built = [family for family in families if family in PART_FAMILIES]
    types = [str(t) for t in settings.escalation_events]
    folder.mkdir(parents=True, exist_ok=True)
    for day in dates:
        known = cut(stored, day)
        frame = features_at(known, built, settings.dormant_days, rates[day])
        labels = escalation_labels(
            pd.Index(frame["case_id"]), stored.events, known.instant, settings.horizon_days, types
        )
        frame.join(labels, on="case_id").to_parquet(part_file(folder, day, "parquet"), index=False)
        if elsewhere is not None:
            cohort = open_cases(known.sources, known.instant, settings.dormant_days)
            reading = intake.reading(
                cohort, known.sources, known.instant, districts, cut(elsewhere, day).cases
            )
            reading = replace(reading, index=pd.Index(cohort["case_id"], name="case_id"))
            with part_file(folder, day, "intake").open("wb") as handle:
                pickle.dump(reading, handle, protocol=pickle.HIGHEST_PROTOCOL)
    del stored, elsewhere
    release_memory()
    return folder


def run_parts(arguments: list[dict], settings: Settings, progress: Progress) -> list[Path]:
    """The parts' snapshots, one after another in this process or as tasks of the configured Dask
    cluster (`task_runner` = dask; the folder must then be one the workers share)."""
    return list(run_tasks(part_snapshots, arguments, settings, progress))


def snapshot_rows(
    folders: Sequence[Path], day: date, families: Sequence[ModuleType], labels: Sequence[str]
) -> pd.DataFrame:
    """One snapshot date's rows of the matrix: the parts' rows by case_id and intake finished with the
    name endings of every part's mentions, in `training_matrix`'s columns and compact dtypes."""
    instant = as_of_instant(day)
    frame = stacked([read_part(part_file(folder, day, "parquet")) for folder in folders])
    frame = frame.set_index(frame["case_id"].to_numpy())
    added = []
    if intake in families:
        readings = []
        for folder in folders:
            with part_file(folder, day, "intake").open("rb") as handle:
                readings.append(pickle.load(handle))  # written by this flow's own parts
        added.append(finished_intake(readings, instant))
    joined = pd.concat([frame, *added], axis=1).reset_index(drop=True)
    return compact_matrix(joined[[*frame_columns(families), *labels]])


def matrix_by_parts(
    settings: Settings,
    as_of: date,
    families: Sequence[ModuleType],
    progress: Progress = iter,
) -> tuple[list[date], pd.DataFrame]:
    """The snapshot dates and the training matrix of the families at `as_of`, built by district parts
    (`features.partition.district_groups`), reading no table whole: the city's base rates of every date
    from one read of the reference cases (a province's 1.9 million: 36 s, 0.8 GB), then each part's
    rows."""
    dates = stored_training_dates(settings, as_of)
    groups = district_groups(district_rows(open_warehouse(settings)), settings.district_parts)
    at = city_base_rates_at(settings, [as_of_instant(day) for day in dates])
    rates: dict[date, BaseRates] = {day: at[as_of_instant(day)] for day in dates}
    if linked_activity in families and dates:  # stored once, then recalled by every part
        backfill_links(settings, dates[0] - LINK_WINDOW, as_of - timedelta(days=1), progress)
    settings.home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="training-parts-", dir=settings.home) as place:
        arguments = [
            {
                "settings": settings,
                "districts": list(group),
                "as_of": as_of,
                "dates": dates,
                "families": list(families),
                "rates": rates,
                "folder": Path(place) / f"part-{number:03d}",
            }
            for number, group in enumerate(groups)
        ]
        folders = run_parts(arguments, settings, progress)
        labels = label_columns(folders[0], dates)
        rows = Path(place) / "matrix"
        rows.mkdir()
        for day in progress(dates):
            snapshot_rows(folders, day, families, labels).to_parquet(
                part_file(rows, day, "parquet"), index=False
            )
        files = [part_file(rows, day, "parquet") for day in dates]
        matrix = stacked_columns(
            files, sample=kept_rows(files, LABEL, settings.training_max_rows or None, settings.seed)
        )
    return dates, matrix


def kept_rows(files: Sequence[Path], label: str, max_rows: int | None, seed: int) -> Sample | None:
    """Which rows of the files the matrix keeps (`models.sampling`): each file's case ids, dates and
    labels read alone, the rates set from the summed counts (`rates_for`), every row's fate from its own
    keys (`kept`); None when the files hold no more than `max_rows` rows (every row kept)."""
    days, escalated, draw = [], [], []
    for path in files:
        keys = read_part(path, ["case_id", "as_of", label])
        days.append(day_numbers(keys["as_of"]))
        escalated.append(keys[label].to_numpy() != 0)
        draw.append(draws(keys["case_id"], keys["as_of"], seed))
    lengths = [len(values) for values in days]
    flags = np.concatenate(escalated) if escalated else np.zeros(0, dtype=bool)
    escalation_rate, rate = rates_for(len(flags), int(flags.sum()), max_rows)
    if min(rate, escalation_rate) >= 1.0:
        return None
    keep, weights = kept(np.concatenate(days), flags, np.concatenate(draw), rate, escalation_rate)
    return Sample(rate, split(keep, lengths), weights, escalation_rate)


def stacked_columns(
    files: Sequence[Path], at_once: int = COLUMNS_AT_ONCE, sample: Sample | None = None
) -> pd.DataFrame:
    """The rows of the files (one per snapshot date, of the same columns) stacked in order, built a few
    columns at a time (`at_once`: each file read once per batch, not once per column) in compact dtypes
    (`models.matrix_dtypes`): the matrix is never held beside a copy of itself. A file without rows adds
    none (unless all are without). With a `sample`, only its kept rows of each file, then their weights
    (a last column `WEIGHT`, the rates in `attrs`): the dropped rows are never held."""
    if not files:
        return pd.DataFrame()
    handles = [pq.ParquetFile(path) for path in files]
    masks = sample.keep if sample is not None else [None] * len(handles)
    filled = [(h, m) for h, m in zip(handles, masks, strict=True) if h.metadata.num_rows]
    filled = filled or list(zip(handles, masks, strict=True))
    names = handles[0].schema_arrow.names
    columns: dict[str, pd.Series] = {}
    for start in range(0, len(names), at_once):
        batch = names[start : start + at_once]
        pieces = [
            read_part(handle, batch) if mask is None else read_part(handle, batch).iloc[np.flatnonzero(mask)]
            for handle, mask in filled
        ]
        for name in batch:
            column = pd.concat([piece[name] for piece in pieces], ignore_index=True)
            columns[name] = compact_matrix(column.to_frame())[name]
        del pieces, column
    if sample is None:
        return pd.DataFrame(columns, copy=False)
    columns[WEIGHT] = pd.Series(sample.weights)
    matrix = pd.DataFrame(columns, copy=False)
    matrix.attrs[RATE] = sample.rate
    matrix.attrs[ESCALATION_RATE] = sample.escalation_rate
    return matrix


def read_part(path: Path | pq.ParquetFile, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A part's rows (those columns) as written: the columns pandas held as objects (text of mixed types,
    read back as strings by default) as objects again."""
    source = path if isinstance(path, pq.ParquetFile) else pq.ParquetFile(path)
    table = source.read(columns=None if columns is None else list(columns), use_pandas_metadata=True)
    objects = [c["name"] for c in table.schema.pandas_metadata["columns"] if c["numpy_type"] == "object"]
    frame = table.to_pandas()
    return frame.astype({name: object for name in objects if name in frame})


def label_columns(folder: Path, dates: Sequence[date]) -> list[str]:
    """The label columns the parts wrote (those of `features.cohort.escalation_labels`)."""
    if not dates:
        return []
    names = pq.read_schema(part_file(folder, dates[0], "parquet")).names
    return [name for name in names if name.startswith("label_")]
