"""The Chinese word segmenter (jieba) shared by ingest (name masking) and features (words of the texts)."""

from __future__ import annotations

import logging
import os
from functools import cache
from pathlib import Path

import jieba


@cache
def tokenizer() -> jieba.Tokenizer:
    """jieba's default tokenizer, initialised once per process (its dictionary loads in about a second)."""
    jieba.setLogLevel(logging.WARNING)
    jieba.dt.tmp_dir = str(private_cache())  # not the shared /tmp, where anyone could plant a dictionary
    jieba.initialize()
    return jieba.dt


def private_cache() -> Path:
    """A cache folder only this account can write (jieba keeps its prepared dictionary there)."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fengqiao"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder
