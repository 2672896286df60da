"""How well free-text masking finds people's names and phone/ID numbers, and what it costs.

Two labelled sets: (a) the demo simulator's case descriptions, event notes and call texts (seed 7, 2,000
cases, 200 days): every name the simulator draws is recorded (its `draw_names`), every phone and ID
number it formats (`format_phones`) or appends (`append_where`), in every module of `cities.demo` that
uses them, and each occurrence of one in a text is a label; (b) the hand-written 12345-hotline and
mediation texts in `bench/data/masking_labelled.jsonl` (names and numbers listed per text).

Figures, per set and per kind (names; numbers):
- recall: labelled occurrences whose every character lies inside a masked span / labelled occurrences;
- false-mask rate (words): the texts are cut into words by jieba (`jieba.cut`); an ordinary word is one
  with a word character (letter, digit, Han) and no character inside any label; the rate is ordinary words
  with at least one masked character / ordinary words;
- false-mask rate (characters): the same over ordinary word characters.
Spans are those of `contracts.person_names.name_spans` and of the number patterns of `contracts.masking` on
the original text. Speed: `mask_column` on 10,000 distinct texts before (the committed `contracts/masking.py`)
and after, in ms. Writes bench/masking_quality.md and .json.

    python -m bench.masking_quality
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import pkgutil
import re
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest import mock

import jieba
import numpy as np
import pandas as pd

import cities.demo as demo
from bench.common import REPO, code_state, machine
from cities.demo import SimulationConfig, people, simulate_city, templates
from contracts.masking import mask_column
from contracts.masking import number_spans as masked_numbers
from contracts.person_names import name_spans

LABELLED = REPO / "bench" / "data" / "masking_labelled.jsonl"
Span = tuple[int, int]


def _patched_everywhere(stack: ExitStack, name: str, replacement: object) -> None:
    """Replaces name in every module of the demo simulator that binds it, until the stack closes."""
    for info in pkgutil.iter_modules(demo.__path__, demo.__name__ + "."):
        module = importlib.import_module(info.name)
        if hasattr(module, name):
            stack.enter_context(mock.patch.object(module, name, replacement))


def simulated_texts(n_cases: int = 2000, days: int = 200) -> list[dict[str, Any]]:
    """Distinct simulator texts with the names and numbers the simulator put in them."""
    names: set[str] = set()
    numbers: set[str] = set()
    draw, append, phones = people.draw_names, templates.append_where, people.format_phones

    def recording_draw(rng: np.random.Generator, size: int) -> np.ndarray:
        out = draw(rng, size)
        names.update(out.tolist())
        return out

    def recording_append(rng, texts, mask, snippets, fields):  # type: ignore[no-untyped-def]
        for key in ("phone", "id_number"):
            if key in fields:
                numbers.update(str(v) for v in np.asarray(fields[key], dtype=object)[np.asarray(mask)])
        return append(rng, texts, mask, snippets, fields)

    def recording_phones(rng: np.random.Generator, raw: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
        out = phones(rng, raw, *args, **kwargs)
        numbers.update(str(v) for v in out if v)
        return out

    with ExitStack() as stack:
        _patched_everywhere(stack, "draw_names", recording_draw)
        _patched_everywhere(stack, "format_phones", recording_phones)
        _patched_everywhere(stack, "append_where", recording_append)
        city = simulate_city(SimulationConfig(seed=7, n_cases=n_cases, days=days))
    texts = pd.concat([city.cases["description"], city.case_events["note"], city.hotline["text"]])
    distinct = list(dict.fromkeys(texts.dropna().astype(str)))
    return [{"text": t, "names": sorted(names), "numbers": sorted(numbers)} for t in distinct]


def hand_written() -> list[dict[str, Any]]:
    """The hand-written labelled texts."""
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]


def occurrences(text: str, strings: list[str]) -> list[Span]:
    """Spans of every occurrence of the strings in text, longest first, not overlapping."""
    wanted = sorted({s for s in strings if s}, key=len, reverse=True)
    if not wanted:
        return []
    pattern = re.compile("|".join(re.escape(s) for s in wanted))
    return [m.span() for m in pattern.finditer(text)]


def number_spans(text: str) -> list[Span]:
    """Spans the number masker replaces (`contracts.masking.number_spans`: any digits, Chinese numerals)."""
    return [(start, end) for start, end, _ in masked_numbers(text)]


def _covered(spans: list[Span]) -> set[int]:
    return {i for start, end in spans for i in range(start, end)}


def score(rows: list[dict[str, Any]], kind: str) -> dict[str, float]:
    """Recall and false-mask rates (words, characters) of one masker over labelled rows."""
    found, total, words, masked_words, chars, masked_chars = 0, 0, 0, 0, 0, 0
    for row in rows:
        text = row["text"]
        labels = occurrences(text, row["names"]) + occurrences(text, row["numbers"])
        own = occurrences(text, row["names"] if kind == "names" else row["numbers"])
        masked = _covered(name_spans(text) if kind == "names" else number_spans(text))
        labelled = _covered(labels)
        total += len(own)
        found += sum(all(i in masked for i in range(s, e)) for s, e in own)
        position = 0
        for word in jieba.cut(text):
            span = range(position, position + len(word))
            position += len(word)
            if not re.search(r"\w", word) or any(i in labelled for i in span):
                continue
            words += 1
            masked_words += any(i in masked for i in span)
            letters = [i for i in span if re.match(r"\w", text[i])]
            chars += len(letters)
            masked_chars += sum(i in masked for i in letters)
    return {
        "labelled": total,
        "recall": round(found / total, 4) if total else float("nan"),
        "ordinary_words": words,
        "false_mask_rate_words": round(masked_words / words, 4) if words else 0.0,
        "false_mask_rate_chars": round(masked_chars / chars, 4) if chars else 0.0,
    }


def _committed_mask_column() -> Any:
    """mask_column of the committed contracts/masking.py (the 'before' of the speed comparison)."""
    source = subprocess.run(
        ["git", "--no-optional-locks", "show", "HEAD:contracts/masking.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path("/tmp") / "fengqiao_pseudonymise_before.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("pseudonymise_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["pseudonymise_before"] = module
    spec.loader.exec_module(module)
    return module.mask_column


def _clear_text_caches() -> None:
    """Empty the maskers' bounded caches (each clause is judged once per process), so that every timed
    run masks its texts afresh rather than reading what the run before it judged."""
    for module in (sys.modules["contracts.person_names"], sys.modules["contracts.masking"]):
        for value in vars(module).values():
            info = getattr(value, "cache_info", None)
            if info is not None and info().maxsize is not None:
                value.cache_clear()


def speed(texts: list[str], repeats: int = 3) -> dict[str, float]:
    """ms per 10,000 distinct texts: mask_column before and after (best of repeats, jieba warmed up, the
    clause caches emptied before each)."""
    column = pd.Series(texts[:10_000], dtype="object")
    scale = 10_000 / len(column)
    mask_column(pd.Series(["王小明与李四"]))  # load jieba's dictionary outside the timing
    out = {}
    for label, function in (("before", _committed_mask_column()), ("after", mask_column)):
        best = float("inf")
        for _ in range(repeats):
            _clear_text_caches()
            start = time.perf_counter()
            function(column)
            best = min(best, time.perf_counter() - start)
        out[f"ms_per_10k_distinct_{label}"] = round(best * 1000 * scale, 1)
    return out


def main() -> None:
    simulated = simulated_texts()
    hand = hand_written()
    results = {
        kind: {"simulator": score(simulated, kind), "hand_written": score(hand, kind)}
        for kind in ("names", "numbers")
    }
    many = [r["text"] for r in simulated_texts(n_cases=6000, days=400)] + [r["text"] for r in hand]
    report = {
        "sets": {"simulator_texts": len(simulated), "hand_written_texts": len(hand)},
        "results": results,
        "speed": {"distinct_texts": min(len(many), 10_000), **speed(many)},
        "machine": machine(),
        "code": code_state(("ingest", "cities")),
    }
    (REPO / "bench" / "masking_quality.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    )
    lines = [
        "# Masking quality",
        "",
        "`python -m bench.masking_quality` (definitions in its docstring). Recall: labelled occurrences",
        "fully masked. False-mask rate: share of ordinary (unlabelled) jieba words, and of their characters,",
        "with a masked character. Targets: name recall >= 0.9, ordinary words masked <= 2%.",
        "",
        f"Texts: {len(simulated)} distinct simulator texts, {len(hand)} hand-written.",
        "",
        "| kind | set | labelled | recall | false-mask (words) | false-mask (chars) |",
        "|---|---|---|---|---|---|",
    ]
    for kind, sets in results.items():
        for name, r in sets.items():
            lines.append(
                f"| {kind} | {name} | {r['labelled']} | {r['recall']} | "
                f"{r['false_mask_rate_words']:.2%} | {r['false_mask_rate_chars']:.2%} |"
            )
    s = report["speed"]
    lines += [
        "",
        f"Speed (`mask_column`, {s['distinct_texts']} distinct texts, best of 3, ms per 10,000):",
        f"before (numbers and the row's own name only) {s['ms_per_10k_distinct_before']} ms, "
        f"after (Unicode numbers and other people's names) {s['ms_per_10k_distinct_after']} ms.",
        "",
    ]
    (REPO / "bench" / "masking_quality.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
