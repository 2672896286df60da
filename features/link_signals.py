"""The signals of every candidate pair of a batch (SIGNALS): the same phone as the case's reporter or as
a caller of a call linked to it, the character n-gram cosine of the call against the case's document,
shared named things and amounts, whether the categories agree, and whether the case was closed at the
call's time."""

from __future__ import annotations

import numpy as np

from features.link_arrays import equal_pairs
from features.link_candidates import Block
from features.link_inputs import LinkInputs
from features.link_text import norms

SIGNALS = ("same_reporter", "same_linked_caller", "cosine", "n_named", "n_amount", "category", "closed")


def fill_signals(
    linker: LinkInputs,
    first: int,
    end: int,
    instant: np.datetime64,
    blocks: list[Block],
    versions: np.ndarray,
) -> np.ndarray:
    """Fills every signal of every candidate pair of the calls decided at the instant (calls[first:end]);
    returns the named things the pairs share, (call, case, thing) rows."""
    config = linker.config
    # The candidate cases and the calls linked to them known before the instant.
    cases = np.concatenate([b.cases for b in blocks])
    doc = np.full(len(linker.cases), -1)
    doc[cases] = np.arange(len(cases))
    known = int(np.searchsorted(linker.linked_known, instant, side="left"))
    linked = np.flatnonzero(doc[linker.linked_case[:known]] >= 0)
    owner = doc[linker.linked_case[linked]]
    # Cosines: (a w^2 / |a w|) . (b / |b w|), for the batch's IDF w and sublinear counts a, b.
    documents = linker.documents[versions]
    calls = linker.call_tf[first:end]
    width = calls.shape[1]
    df = np.bincount(calls.indices, minlength=width) + np.bincount(documents.indices, minlength=width)
    squared = (np.log((1.0 + calls.shape[0] + len(cases)) / (1.0 + df)) + 1.0) ** 2
    doc_norms = np.sqrt(linker.documents_squared[versions] @ squared)
    doc_norms[doc_norms == 0] = np.inf  # an empty document has cosine 0
    call_vectors = calls.copy()
    call_vectors.data *= squared[call_vectors.indices] / np.repeat(
        norms(calls, squared), np.diff(calls.indptr)
    )

    # Where each call of the batch and each document sits in the blocks.
    call_block, call_row = np.full(end - first, -1), np.full(end - first, -1)
    for number, block in enumerate(blocks):
        call_block[block.calls - first] = number
        call_row[block.calls - first] = np.arange(len(block.calls))
    doc_block = np.repeat(np.arange(len(blocks)), [len(b.cases) for b in blocks])
    doc_column = np.concatenate([np.arange(len(b.cases)) for b in blocks])

    def cells(call: np.ndarray, document: np.ndarray) -> np.ndarray:
        """Which of the (batch call, document) pairs are candidate pairs."""
        same = call_block[call] == doc_block[document]
        ok = np.zeros(len(call), dtype=bool)
        for number, block in enumerate(blocks):
            mine = np.flatnonzero(same & (doc_block[document] == number))
            ok[mine] = block.valid[call_row[call[mine]], doc_column[document[mine]]]
        return ok

    # Named things: a call's things that are among the documents' things named by at most max_named_cases.
    n_things = max(len(linker.thing_names), 1)
    at, thing = linker.description_things
    mentioned = doc[at] >= 0
    until = int(np.searchsorted(linker.linked_things[0], known, side="left"))
    in_batch = np.zeros(len(linker.linked_case), dtype=bool)
    in_batch[linked] = True
    linked_at, linked_thing = linker.linked_things[0][:until], linker.linked_things[1][:until]
    chosen = in_batch[linked_at]
    named = np.unique(
        np.r_[
            doc[at[mentioned]] * n_things + thing[mentioned],
            doc[linker.linked_case[linked_at[chosen]]] * n_things + linked_thing[chosen],
        ]
    )
    named_doc, named_thing = named // n_things, named % n_things
    rare = np.bincount(named_thing, minlength=n_things)[named_thing] <= config.max_named_cases
    named_doc, named_thing = named_doc[rare], named_thing[rare]
    call_at, call_thing = linker.call_things
    low, high = np.searchsorted(call_at, [first, end], side="left")
    left, right = equal_pairs(call_thing[low:high], named_thing)
    match_call, match_doc, match_thing = call_at[low:high][left] - first, named_doc[right], named_thing[right]
    ok = cells(match_call, match_doc)
    match_call, match_doc, match_thing = match_call[ok], match_doc[ok], match_thing[ok]
    amount = linker.thing_is_amount[match_thing]

    # Phones: the reporter's; callers of calls linked to the case by case_id, known before the instant.
    phone = linker.call_phone[first:end]
    left, right = equal_pairs(
        phone, np.where(linker.reporter_phone[cases] >= 0, linker.reporter_phone[cases], -2)
    )
    ok = cells(left, right)
    reporter_call, reporter_doc = left[ok], right[ok]
    caller_phone = linker.linked_phone[linked]
    left, right = equal_pairs(phone, np.where(caller_phone >= 0, caller_phone, -2))
    caller_call, caller_doc = left, owner[right]
    ok = cells(caller_call, caller_doc)
    caller_call, caller_doc = caller_call[ok], caller_doc[ok]

    def sparse_cells(number: int, call: np.ndarray, document: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sorted distinct cells of block `number` the pairs fall on, and how many pairs fall on each."""
        mine = call_block[call] == number
        key = call_row[call[mine]] * len(blocks[number].cases) + doc_column[document[mine]]
        keys, counts = np.unique(key, return_counts=True)
        return keys, counts.astype(float)

    for number, block in enumerate(blocks):
        rows = block.calls - first
        columns = doc[block.cases]
        raw = np.ascontiguousarray(
            (documents[columns[0] : columns[-1] + 1] @ call_vectors[rows].T).toarray().T
        )
        block.cosine = np.divide(raw, doc_norms[columns], out=np.zeros_like(raw), where=raw != 0)
        block.category = (linker.call_category[block.calls], linker.case_category[block.cases])
        block.cells["same_reporter"] = sparse_cells(number, reporter_call, reporter_doc)
        block.cells["same_linked_caller"] = sparse_cells(number, caller_call, caller_doc)
        block.cells["n_named"] = sparse_cells(number, match_call[~amount], match_doc[~amount])
        block.cells["n_amount"] = sparse_cells(number, match_call[amount], match_doc[amount])
        for name in ("same_reporter", "same_linked_caller"):
            keys, counts = block.cells[name]
            block.cells[name] = (keys, np.minimum(counts, 1.0))
    return np.column_stack([match_call + first, cases[match_doc], match_thing])


def signals_at(
    linker: LinkInputs, block: Block, rows: np.ndarray, columns: np.ndarray
) -> dict[str, np.ndarray]:
    """Every signal (SIGNALS) of some cells of a block."""
    return {
        "same_reporter": block.at("same_reporter", rows, columns) > 0,
        "same_linked_caller": block.at("same_linked_caller", rows, columns) > 0,
        "cosine": block.cosine[rows, columns],
        "n_named": block.at("n_named", rows, columns),
        "n_amount": block.at("n_amount", rows, columns),
        "category": linker.category_table[block.category[0][rows], block.category[1][columns]],
        "closed": block.closed[rows, columns],
    }
