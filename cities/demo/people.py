"""People in the demo city: names, mobile numbers (and the styles exports write them in), resident ID
numbers with valid check characters, and names as the hotline writes them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cities.demo.draws import choose

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏"
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红海波"
    "春梅金凤文斌辉鹏宇浩雪琴云飞龙燕玲婷晨欣佳怡俊峰"
)
# Mobile prefixes, space-separated (one string is easier to read than a list of 40).
_PHONE_PREFIX_TEXT = (
    "130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 170 173 176 "
    "177 178 180 181 182 183 184 185 186 187 188 189 191 193 195 196 198 199"
)
_PHONE_PREFIXES = tuple(_PHONE_PREFIX_TEXT.split())
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))
OUTSIDE_AREAS = ("360102", "430105", "420106", "350203", "441303", "510104", "411302", "340111")


def draw_names(rng: np.random.Generator, size: int) -> np.ndarray:
    """Chinese personal names: a common surname and one or two given characters."""
    surname_weights = 1.0 / np.arange(1, len(_SURNAMES) + 1) ** 0.7
    surnames = np.array(list(_SURNAMES))[
        rng.choice(len(_SURNAMES), size, p=surname_weights / surname_weights.sum())
    ]
    given = np.array(list(_GIVEN))
    first = given[rng.integers(0, len(given), size)]
    second = np.where(rng.random(size) < 0.7, given[rng.integers(0, len(given), size)], "")
    return np.array([s + a + b for s, a, b in zip(surnames, first, second, strict=True)], dtype=object)


def draw_phones(rng: np.random.Generator, size: int) -> np.ndarray:
    """11-digit mainland mobile numbers (plain digits)."""
    prefixes = choose(rng, _PHONE_PREFIXES, size)
    rest = rng.integers(0, 10**8, size)
    return np.array([f"{p}{r:08d}" for p, r in zip(prefixes, rest, strict=True)], dtype=object)


def _phone_plain(p: str) -> str:
    return p


def _phone_spaced(p: str) -> str:
    return f"{p[:3]} {p[3:7]} {p[7:]}"


def _phone_international(p: str) -> str:
    return f"+86 {p[:3]}-{p[3:7]}-{p[7:]}"


def _phone_dashed(p: str) -> str:
    return f"{p[:3]}-{p[3:7]}-{p[7:]}"


_PHONE_STYLES: tuple[Callable[[str], str], ...] = (
    _phone_plain,
    _phone_spaced,
    _phone_international,
    _phone_dashed,
)


def format_phones(rng: np.random.Generator, phones: np.ndarray, plain_share: float = 0.7) -> np.ndarray:
    """phones written in a random export style: mostly plain digits, else spaced, +86 or dashed."""
    rest = (1.0 - plain_share) / (len(_PHONE_STYLES) - 1)
    styles = rng.choice(len(_PHONE_STYLES), len(phones), p=[plain_share] + [rest] * (len(_PHONE_STYLES) - 1))
    return np.array([_PHONE_STYLES[s](p) for s, p in zip(styles, phones, strict=True)], dtype=object)


def _id_check_chars(bodies: np.ndarray) -> np.ndarray:
    """GB 11643 check characters of 17-digit ID bodies."""
    digits = np.frombuffer("".join(bodies).encode("ascii"), dtype=np.uint8).reshape(len(bodies), 17) - 48
    return _ID_CHECK[(digits.astype(np.int64) @ _ID_WEIGHTS) % 11]


def draw_id_numbers(rng: np.random.Generator, areas: np.ndarray) -> np.ndarray:
    """18-digit resident ID numbers with valid checksums, one per area code."""
    size = len(areas)
    births = np.datetime64("1950-01-01") + rng.integers(0, 56 * 365, size).astype("timedelta64[D]")
    birth_text = np.datetime_as_string(births, unit="D")
    sequence = rng.integers(0, 1000, size)
    bodies = np.array(
        [f"{a}{b[:4]}{b[5:7]}{b[8:10]}{s:03d}" for a, b, s in zip(areas, birth_text, sequence, strict=True)]
    )
    checks = _id_check_chars(bodies)
    return np.array([b + c for b, c in zip(bodies, checks, strict=True)], dtype=object)


def caller_names(rng: np.random.Generator, names: np.ndarray) -> np.ndarray:
    """Names as the hotline writes them: full name, 'Mr/Ms surname', or nothing."""
    u = rng.random(len(names))
    titles = choose(rng, ("先生", "女士"), len(names))
    polite = np.array([n[0] + t for n, t in zip(names, titles, strict=True)], dtype=object)
    return np.where(u < 0.75, names, np.where(u < 0.9, polite, None))
