"""A hotline export as real ones arrive: the bulk records with a share of rows that ingest must quarantine
(impossible or unreadable times, an empty key), rows sent twice and rows sent again changed, placed later
in the file; and the accounting a correct ingest gives for it. The input of the ingest benchmark's messy
formats (`bench/ingest_bench.py --messy`).

    table, expected = messy_hotline_table(hotline_table(1_000_000, seed=1), share=0.05, seed=1)
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Ways a row is unusable, each a column and the value a careless export writes there (None: left empty).
DEFECTS = (
    ("received_at", "9999-12-31 23:59:59"),  # a placeholder year
    ("received_at", "1900-01-01 00:00:00"),  # a spreadsheet's zero date
    ("received_at", "昨天下午"),  # free text where a time belongs
    ("call_id", None),  # the key missing
)
LATEST_MOVE = 5_000  # a resent row arrives at most this many rows after the original


def messy_hotline_table(table: pa.Table, share: float, seed: int) -> tuple[pa.Table, dict[str, int]]:
    """`table` with `share` of its rows defective, `share` resent unchanged and `share` resent changed;
    with the accounting ingest must report (read, accepted, duplicates, quarantined)."""
    rng = np.random.default_rng(seed)
    n = table.num_rows
    picked = rng.permutation(n)
    per = int(n * share)
    defective, resent, changed = picked[:per], picked[per : 2 * per], picked[2 * per : 3 * per]
    kind = np.full(n, -1)
    kind[defective] = rng.integers(0, len(DEFECTS), per)
    columns = {name: table.column(name) for name in table.column_names}
    for index, (name, value) in enumerate(DEFECTS):
        hit = pa.array(kind == index)
        columns[name] = pc.if_else(hit, pa.scalar(value, pa.string()), columns[name])
    damaged = pa.table(columns)
    again = damaged.take(pa.array(resent))
    edited = damaged.take(pa.array(changed))
    edited = edited.set_column(
        edited.column_names.index("text"), "text", pc.binary_join_element_wise(edited["text"], "（补充）", "")
    )
    order = np.concatenate(
        [
            np.arange(n, dtype=float),
            resent + 0.5 + rng.integers(0, LATEST_MOVE, per),
            changed + 0.5 + rng.integers(0, LATEST_MOVE, per),
        ]
    )
    whole = pa.concat_tables([damaged, again, edited]).take(pa.array(np.argsort(order, kind="stable")))
    expected = {
        "read": n + 2 * per,
        "accepted": n - per,
        "duplicates": per,
        "quarantined": 2 * per,  # the defective rows, and the first of each changed pair (the later is kept)
    }
    return whole, expected
