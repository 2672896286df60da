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


def test_jieba_loads_its_files_without_pkg_resources() -> None:
    """In a fresh process the segmenter's import leaves setuptools' pkg_resources out (a slow, deprecated
    import) and jieba still reads its dictionary and model files from its folder."""
    script = (
        "import sys\n"
        "from contracts.segmenter import tokenizer, word_tags\n"
        "import jieba.finalseg\n"
        "words = tokenizer().lcut('拖欠工资的老板跑了')\n"
        "print('pkg_resources' in sys.modules, len(word_tags()) > 300000, words)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False True ['拖欠工资', '的', '老板', '跑', '了']"
