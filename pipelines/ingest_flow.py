"""The ingest flow: read delivered files, validate, pseudonymise, and write them in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from prefect import flow, get_run_logger, task

from contracts.settings import Settings
from contracts.vocabulary import RecordKind
from ingest.plan import IngestPlan, plan_ingest
from ingest.readers import UnreadableFileError, detect_kind, expand_paths, read_text_frame
from ingest.validate import MissingColumnsError, ValidatedFile, validate_frame
from pipelines.runtime import open_warehouse, pseudonym_key
from pipelines.tasks import IO_TASK, PURE_TASK
from warehouse import tables
from warehouse.store import Warehouse, append


@dataclass(frozen=True)
class IngestReport:
    """What one ingest run did: per-file accounting, files that failed, and its run id."""

    run_id: str
    accounting: pd.DataFrame
    failed: dict[str, str]


@task(name="read-and-validate", **IO_TASK)
def read_and_validate(path: Path, kind: RecordKind | None, encoding: str | None, key: bytes) -> ValidatedFile:
    """One delivered file, read and checked against the contract."""
    frame = read_text_frame(path, encoding)
    detected = detect_kind(path, list(frame.columns), kind)
    return validate_frame(frame, detected, path.name, key)


@task(name="plan-ingest", **PURE_TASK)
def plan(files: list[ValidatedFile], warehouse: Warehouse) -> IngestPlan:
    """Decide what is new, updated, duplicate or orphaned, against what the store already holds."""
    existing = {kind: warehouse.existing_hashes(kind) for kind in RecordKind}
    return plan_ingest(files, existing, warehouse.existing_case_ids())


@task(name="write-ingest", **IO_TASK)
def write(run_plan: IngestPlan, warehouse: Warehouse, run_id: str) -> None:
    """Write records, quarantine and accounting together: all of it, or (on any error) none of it."""
    now = pd.Timestamp.now()
    with warehouse.transaction() as connection:
        for kind, records in run_plan.writes.items():
            warehouse.upsert_records(connection, kind, records.assign(ingested_at=now))
        append(connection, tables.quarantine, run_plan.quarantine.assign(run_id=run_id, quarantined_at=now))
        append(connection, tables.ingest_runs, run_plan.accounting.assign(run_id=run_id, finished_at=now))


@flow(name="ingest")
def ingest_flow(
    paths: list[Path],
    settings: Settings | None = None,
    kind: RecordKind | None = None,
    encoding: str | None = None,
    allow_local_key: bool = False,
) -> IngestReport:
    """Ingest files and folders into the store; unreadable files fail alone and change nothing."""
    settings = settings or Settings()
    logger = get_run_logger()
    key, key_origin = pseudonym_key(settings, allow_local=allow_local_key)
    logger.info("pseudonymisation key from %s", key_origin)
    warehouse = open_warehouse(settings)
    run_id = uuid.uuid4().hex[:12]
    files, failed = [], {}
    for path in expand_paths([Path(p) for p in paths]):
        try:
            files.append(read_and_validate(path, kind, encoding, key))
        except (UnreadableFileError, MissingColumnsError) as error:
            failed[path.name] = str(error)
            logger.error("file refused, nothing of it was ingested: %s", error)
    run_plan = plan(files, warehouse)
    write(run_plan, warehouse, run_id)
    for row in run_plan.accounting.itertuples():
        logger.info(
            "%s (%s): read %d = accepted %d + updated %d + duplicates %d + quarantined %d",
            row.source_file,
            row.kind,
            row.read,
            row.accepted,
            row.updated,
            row.duplicates,
            row.quarantined,
        )
    return IngestReport(run_id, run_plan.accounting, failed)
