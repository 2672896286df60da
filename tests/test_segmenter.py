"""The segmenter's word tags: the table jieba.posseg builds, read without importing it."""

from __future__ import annotations

import subprocess
import sys

from contracts.segmenter import word_tags


def test_word_tags_are_jieba_posseg_s_table() -> None:
    import jieba.posseg

    tags = word_tags()
    assert tags == jieba.posseg.dt.word_tag_tab
    assert tags["李强"].startswith("nr") and not tags["调解"].startswith("nr")


def test_masking_a_name_does_not_import_jieba_posseg() -> None:
    code = (
        "import sys; from contracts.person_names import name_spans; "
        "assert name_spans('昨天被张伟推倒了') == [(3, 5)], name_spans('昨天被张伟推倒了'); "
        "assert 'jieba.posseg' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
