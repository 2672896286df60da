"""The Chinese word segmenter (jieba) shared by ingest (name masking) and features (words of the texts)."""

from __future__ import annotations

import contextlib
import logging
import sys
from functools import cache
from pathlib import Path

from contracts.private_cache import kept, private_cache

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
    """jieba's default tokenizer, initialised once per process. Its prefix dictionary is kept pickled in
    the private cache (0.2 s to load, against 0.6 s from jieba's own marshal cache and 3 s to build)."""
    jieba.setLogLevel(logging.WARNING)
    segmenter = jieba.dt
    with contextlib.suppress(OSError):  # not the shared /tmp, where anyone could plant a dictionary
        segmenter.tmp_dir = str(private_cache())
    if not segmenter.initialized:
        segmenter.FREQ, segmenter.total = kept(_prefix_dictionary_name(), _built_prefix_dictionary)
        segmenter.initialized = True
    return segmenter


def _prefix_dictionary_name() -> str:
    """The kept prefix dictionary's name: jieba's version and its dictionary file's size and time."""
    source = (Path(jieba.__file__).parent / jieba.DEFAULT_DICT_NAME).stat()
    return f"jieba-{jieba.__version__}-prefix-dictionary-{source.st_size}-{source.st_mtime_ns}"


def _built_prefix_dictionary() -> tuple[dict[str, int], int]:
    """jieba's prefix dictionary (every word and word prefix with its count) and the counts' total, built
    from its dictionary file as `jieba.initialize` builds it (not from jieba's own cache, which it never
    checks against the file of its default dictionary)."""
    return jieba.Tokenizer.gen_pfdict(jieba.dt.get_dict_file())


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
