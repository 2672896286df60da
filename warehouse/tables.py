"""The store's tables (SQLAlchemy Core): the three inputs in stored form, quarantine, runs and lists."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Float, Index, Integer, MetaData, String, Table, Text

from contracts.vocabulary import RecordKind

metadata = MetaData()


def _bookkeeping() -> list[Column]:
    """Columns every input table carries besides the contract's: knowledge time, key, hash, lineage."""
    return [
        Column("known_at", DateTime, nullable=False, index=True),
        Column("record_key", String, primary_key=True),
        Column("row_hash", String(16), nullable=False),
        Column("source_file", String, nullable=False),
        Column("ingested_at", DateTime, nullable=False),
    ]


cases = Table(
    "cases",
    metadata,
    Column("case_id", String, nullable=False),  # unique through record_key, which is the case_id
    Column("opened_at", DateTime, nullable=False),
    Column("district", String, nullable=False, index=True),
    Column("town", String),
    Column("category", String, nullable=False),
    Column("source", String),
    Column("description", Text),
    Column("party_count", Integer),
    Column("amount", Float),
    Column("recorded_at", DateTime),
    Column("reporter_name_pid", String(20)),
    Column("reporter_phone_pid", String(20)),
    Column("reporter_id_number_pid", String(20)),
    Column("address_pid", String(20)),
    *_bookkeeping(),
)

case_events = Table(
    "case_events",
    metadata,
    Column("case_id", String, nullable=False, index=True),
    Column("event_at", DateTime, nullable=False),
    Column("event_type", String, nullable=False),
    Column("note", Text),
    Column("recorded_at", DateTime),
    *_bookkeeping(),
)

hotline = Table(
    "hotline",
    metadata,
    Column("call_id", String, nullable=False),  # unique through record_key, which is the call_id
    Column("received_at", DateTime, nullable=False),
    Column("district", String, nullable=False, index=True),
    Column("category", String),
    Column("text", Text),
    Column("channel", String),
    Column("case_id", String, index=True),
    Column("recorded_at", DateTime),
    Column("caller_name_pid", String(20)),
    Column("caller_phone_pid", String(20), index=True),
    *_bookkeeping(),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String, nullable=False, index=True),
    Column("kind", String, nullable=False),
    Column("source_file", String, nullable=False),
    Column("source_path", String, nullable=False, index=True),
    Column("row", Integer, nullable=False),
    Column("field", String, nullable=False),
    Column("value", Text),
    Column("reason", Text, nullable=False),
    Column("record_key", String, index=True),
    Column("quarantined_at", DateTime, nullable=False),
    Column("released_at", DateTime),
    Column("released_by_run", String),
)

# Events whose case is not in the store yet: kept (pseudonymised) until the case arrives.
held_events = Table(
    "held_events",
    metadata,
    *(Column(c.name, c.type, primary_key=c.primary_key) for c in case_events.columns),
    Column("source_path", String, nullable=False),
    Column("row", Integer, nullable=False),
)

# Earlier versions of updated records: the latest delivery wins, the one it replaced is kept here.
record_history = Table(
    "record_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String, nullable=False),
    Column("record_key", String, nullable=False, index=True),
    Column("row_hash", String(16), nullable=False),
    Column("payload", Text, nullable=False),
    Column("superseded_at", DateTime, nullable=False),
    Column("superseded_by_run", String, nullable=False),
)

ingest_runs = Table(
    "ingest_runs",
    metadata,
    Column("run_id", String, primary_key=True),
    Column("source_path", String, primary_key=True),
    Column("source_file", String, nullable=False),
    Column("kind", String),
    Column("status", String, nullable=False),
    Column("message", Text),
    Column("read", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
    Column("quarantined", Integer, nullable=False),
    Column("released", Integer, nullable=False),
    Column("finished_at", DateTime, nullable=False),
)

lists = Table(
    "lists",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("rank", Integer, nullable=False),
    Column("case_id", String, primary_key=True),
    Column("district", String, nullable=False, index=True),
    Column("town", String),
    Column("category", String, nullable=False),
    Column("opened_at", DateTime, nullable=False),
    Column("score", Float, nullable=False),
    Column("band", String, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("model_version", String, nullable=False),
)

# The day's emerging grievances, published with its list: things and places, never persons.
grievances = Table(
    "grievances",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("cluster_id", String, primary_key=True),
    Column("thing", String, nullable=False),
    Column("thing_kind", String, nullable=False),
    Column("district", String, nullable=False),
    Column("category", String),
    Column("calls", Integer, nullable=False),
    Column("distinct_callers", Integer, nullable=False),
    Column("new_callers", Integer, nullable=False),
    Column("prior_calls", Integer, nullable=False),
    Column("growth", Float, nullable=False),
    Column("cases_opened", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("cases", Integer, nullable=False),
    Column("case_ids", Text, nullable=False),
    Column("open_case_ids", Text, nullable=False),
    Column("first_seen", DateTime),
    Column("usual", Float, nullable=False),
    Column("p_value", Float, nullable=False),
    Column("surge", Boolean, nullable=False),
    Column("surge_reason", Text, nullable=False),
    Column("summary", Text, nullable=False),
)

# Each daily run's decisions of the call linker: calls without a case number attached to an open case.
call_links = Table(
    "call_links",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("call_id", String, primary_key=True),
    Column("case_id", String, nullable=False, index=True),
    Column("confidence", Float, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("digest", String, nullable=False),
    # The call's district as stored (null in a store written before it was kept): a district part reads
    # its own links by it.
    Column("district", String, nullable=True),
    Index("ix_call_links_district_as_of", "district", "as_of"),
)

list_manifests = Table(
    "list_manifests",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("manifest", Text, nullable=False),
    Column("published_at", DateTime, nullable=False),
)

# Facts about the store itself, one value per name (e.g. the pseudonymisation key's fingerprint).
store_meta = Table(
    "store_meta",
    metadata,
    Column("name", String, primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

INPUT_TABLES: dict[RecordKind, Table] = {
    RecordKind.CASES: cases,
    RecordKind.CASE_EVENTS: case_events,
    RecordKind.HOTLINE: hotline,
}

# Input kinds whose stored rows carry pseudonyms (`*_pid` columns): what a key rotation must recompute.
PSEUDONYMISED_KINDS: tuple[RecordKind, ...] = tuple(
    kind for kind, table in INPUT_TABLES.items() if any(c.name.endswith("_pid") for c in table.columns)
)
