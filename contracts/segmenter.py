"""The Chinese word segmenter (jieba) shared by ingest (name masking) and features (words of the texts)."""

from __future__ import annotations

import logging
import os
import sys
from functools import cache
from pathlib import Path

# jieba finds its files through setuptools' pkg_resources when it can import it (0.18 s of every command's
# imports, and a deprecated API), else opens them from its own folder: it is made to do the latter.
_NO_PKG_RESOURCES = "pkg_resources" not in sys.modules
if _NO_PKG_RESOURCES:
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # its import raises ImportError
try:
    import jieba
finally:
    if _NO_PKG_RESOURCES:
        del sys.modules["pkg_resources"]


@cache
def tokenizer() -> jieba.Tokenizer:
    """jieba's default tokenizer, initialised once per process (its dictionary loads in about a second)."""
    jieba.setLogLevel(logging.WARNING)
    jieba.dt.tmp_dir = str(private_cache())  # not the shared /tmp, where anyone could plant a dictionary
    jieba.initialize()
    return jieba.dt


@cache
def word_tags() -> dict[str, str]:
    """The part-of-speech tag of every word of jieba's dictionary (nr: a person's name), read from the
    dictionary file: the table `jieba.posseg` builds, without importing it (its import and initialisation
    read the file twice, line by line, and load its HMM tables: seconds in every ingest process)."""
    with tokenizer().get_dict_file() as dictionary:
        fields = dictionary.read().decode("utf-8").split()
    if len(fields) % 3:
        raise ValueError("jieba's dictionary has a line without its three fields (word, count, tag)")
    return dict(zip(fields[0::3], fields[2::3], strict=True))


def private_cache() -> Path:
    """A cache folder only this account can write (jieba keeps its prepared dictionary there)."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fengqiao"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder
