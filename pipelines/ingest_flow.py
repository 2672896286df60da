"""The ingest flow: delivered files streamed into the store in one transaction, with progress."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task

from contracts.settings import Settings
from contracts.vocabulary import RecordKind
from ingest.run import IngestReport
from pipelines.ingest_ahead import IngestCall, ingest_with_progress, taken_ahead
from pipelines.runtime import pseudonym_key
from pipelines.tasks import IO_TASK

__all__ = ["IngestReport", "ingest_flow"]


@task(name="ingest-files", **IO_TASK)
def ingest_files(
    paths: list[Path],
    settings: Settings,
    kind: RecordKind | None,
    encoding: str | None,
    sheet: str | None,
    mapping_file: Path | None,
    allow_local_key: bool,
) -> IngestReport:
    """Stream every file into the store, or commit the run the command started ahead with these arguments
    (`pipelines.ingest_ahead`); retried as a whole on transient I/O errors (it is atomic)."""
    key, key_origin = pseudonym_key(settings, allow_local=allow_local_key)
    get_run_logger().info("pseudonymisation key from %s", key_origin)
    call = IngestCall(
        tuple(paths), settings, key, kind=kind, encoding=encoding, sheet=sheet, mapping_file=mapping_file
    )
    started = taken_ahead(call)
    return started.take() if started is not None else ingest_with_progress(call)


@flow(name="ingest")
def ingest_flow(
    paths: list[Path],
    settings: Settings | None = None,
    kind: RecordKind | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    mapping_file: Path | None = None,
    allow_local_key: bool = False,
) -> IngestReport:
    """Ingest files, folders and glob patterns; a refused file changes nothing and the others go on."""
    settings = settings or Settings()
    logger = get_run_logger()
    report = ingest_files(
        [Path(p) for p in paths], settings, kind, encoding, sheet, mapping_file, allow_local_key
    )
    for row in report.accounting.itertuples():
        if row.status == "failed":
            logger.error("%s refused, nothing of it was ingested: %s", row.source_file, row.message)
            continue
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
    if report.released_events:
        logger.info("%d held events released: their cases have arrived", report.released_events)
    return report
