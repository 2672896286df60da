"""Tables built once per account and kept in the private cache (contracts.private_cache), and the
segmenter's prefix dictionary kept there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.private_cache import kept, private_cache


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "fengqiao"


def test_a_table_is_built_once_then_read(cache_home: Path) -> None:
    built: list[int] = []

    def build() -> dict[str, int]:
        built.append(1)
        return {"a": 1}

    assert kept("table-1", build) == {"a": 1} and kept("table-1", build) == {"a": 1}
    assert built == [1]
    assert [p.name for p in cache_home.iterdir()] == ["table-1.pickle"]  # no temporary file left
    assert oct(cache_home.stat().st_mode & 0o777) == "0o700" and private_cache() == cache_home


def test_a_file_that_cannot_be_read_is_built_again_and_replaced(
    cache_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    private_cache()
    (cache_home / "table-1.pickle").write_bytes(b"\x80\x05 truncated")
    assert kept("table-1", lambda: [1, 2]) == [1, 2]
    assert "could not be read" in caplog.text
    assert kept("table-1", lambda: [3]) == [1, 2]  # the replaced file is read


def test_a_full_disk_still_gives_the_value(
    cache_home: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(path: Path, value: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("contracts.private_cache._write_whole", full)
    assert kept("table-1", lambda: 7) == 7
    assert "could not be kept" in caplog.text and not list(cache_home.iterdir())


def test_without_a_folder_of_its_own_the_table_is_built_each_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A cache folder that is a symbolic link (to another account's, say) or cannot be made is not used:
    the table is built, never read from there nor written there."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "linked").mkdir()
    (tmp_path / "linked" / "fengqiao").symlink_to(elsewhere)
    (tmp_path / "a-file").write_text("")
    for home in ("linked", "a-file"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / home))
        assert kept("table-1", lambda: 7) == 7 and kept("table-1", lambda: 8) == 8
    assert not list(elsewhere.iterdir()) and caplog.text.count("No private cache folder") == 4


def test_the_segmenter_keeps_jiebas_prefix_dictionary(tmp_path: Path) -> None:
    """The first process builds the kept dictionary, a second loads it: both segment as jieba does with
    its own dictionary, and the kept one is jieba's prefix dictionary exactly."""
    script = (
        "import jieba\n"
        "from contracts.segmenter import tokenizer\n"
        "segmenter = tokenizer()\n"
        "fresh = jieba.Tokenizer()\n"
        f"fresh.tmp_dir = {str(tmp_path / 'jieba')!r}\n"  # jieba's own build, none of its caches
        "fresh.initialize()\n"
        "same = segmenter.FREQ == fresh.FREQ and segmenter.total == fresh.total\n"
        "print(same, segmenter.lcut('拖欠工资的老板跑了'))\n"
    )
    (tmp_path / "jieba").mkdir()
    environment = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=environment
        )
        assert done.stdout.strip() == "True ['拖欠工资', '的', '老板', '跑', '了']"
    assert [p.name.split("-")[2] for p in (tmp_path / "fengqiao").iterdir()] == ["prefix"]  # no jieba.cache
