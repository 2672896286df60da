"""Background calls naming generic things (整个小区, 建设项目, 自来水公司 ...) across districts and hotline
categories, some in outage bursts: what a grievance detector must not take for a grievance."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from cities.demo.config import HOTLINE_COLUMNS, SimulatedCity, SimulationConfig
from cities.demo.draws import call_seconds, choose
from cities.demo.formats import blank, format_datetimes, format_late, text_frame
from cities.demo.people import caller_names, draw_names, draw_phones, format_phones
from cities.demo.places import DISTRICTS, Places, draw_towns, pick_in_town
from cities.demo.templates import append_where, render
from cities.demo.texts import CALL_PII
from contracts.vocabulary import CHANNELS

# Words the simulated calls write like the names of things but that name none (what a grievance detector
# must not take for one): those of the generic calls below, and the factories of the internship
# grievance's texts. Then the generic calls: (hotline category, text, said in an outage's burst).
GENERIC_THINGS: tuple[str, ...] = (
    "整个小区",
    "导致小区",
    "建设项目",
    "自来水公司",
    "供电公司",
    "燃气公司",
    "市政工程有限公司",
    "物业公司",
    "电子厂",
    "外地工厂",
)
_GENERIC_CALLS: tuple[tuple[str, str, bool], ...] = (
    ("公用事业", "水管爆裂，导致小区停水一整天，什么时候恢复？", True),
    ("公用事业", "整个小区从昨晚开始停电，供电公司一直没来人。", True),
    ("公用事业", "{estate}整个小区都停水了，自来水公司电话打不通。", True),
    ("公用事业", "整个小区水压太低，高层用不上水，自来水公司说在检修。", True),
    ("公用事业", "线路老化，导致小区频繁跳闸，供电公司不管。", True),
    ("住房城乡建设", "市政工程有限公司挖断了水管，导致小区停水。", True),
    ("公用事业", "自来水公司多收了水费，要求核实。", False),
    ("公用事业", "燃气公司上门安检要收费，是否合理？", False),
    ("城市管理", "小区旁边的建设项目晚上一直施工，噪音扰民。", False),
    ("城市管理", "建设项目的渣土车撒漏，道路很脏。", False),
    ("住房城乡建设", "{estate}门口的路被市政工程有限公司挖开后一直没有恢复。", False),
    ("环境保护", "建设项目工地扬尘很大，整个小区都是灰。", False),
    ("交通运输", "建设项目占道施工，导致小区出行困难。", False),
    ("咨询", "咨询一下物业公司可以随便涨价吗？", False),
    ("物业管理", "物业公司不作为，整个小区的垃圾没人清理。", False),
)
_GENERIC_BURST_SHARE = (
    0.4  # of the generic calls, made in bursts: an outage, many callers of a town in 2 days
)
_GENERIC_BURST_SIZE = (6, 20)


@dataclass(frozen=True)
class GenericCalls:
    """The hotline rows of the generic calls and their truth links (about no case)."""

    hotline: pd.DataFrame
    truth_links: pd.DataFrame


def _generic_days_and_places(
    rng: np.random.Generator, size: int, places: Places, config: SimulationConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Day, district, town and template of each generic call: scattered over the period and the city
    (districts by size), except _GENERIC_BURST_SHARE of them in outage bursts of 6-20 calls from one town
    over two days."""
    weights = np.array([d.weight for d in DISTRICTS])
    district = rng.choice(len(DISTRICTS), size, p=weights / weights.sum())
    day = rng.integers(0, config.days, size)
    template = rng.integers(0, len(_GENERIC_CALLS), size)
    in_bursts = round(_GENERIC_BURST_SHARE * size)
    sizes = rng.integers(_GENERIC_BURST_SIZE[0], _GENERIC_BURST_SIZE[1] + 1, max(in_bursts, 1))
    burst = np.repeat(np.arange(sizes.size), sizes)[:in_bursts]
    n_bursts = int(burst.max()) + 1 if in_bursts else 0
    outages = np.flatnonzero([outage for _, _, outage in _GENERIC_CALLS])
    day[:in_bursts] = np.minimum(
        rng.integers(0, config.days, n_bursts)[burst] + rng.integers(0, 2, in_bursts), config.days - 1
    )
    district[:in_bursts] = rng.choice(len(DISTRICTS), n_bursts, p=weights / weights.sum())[burst]
    template[:in_bursts] = outages[rng.integers(0, outages.size, in_bursts)]
    town = draw_towns(rng, district, places)
    if in_bursts:
        town[:in_bursts] = town[
            np.searchsorted(burst, burst)
        ]  # a burst's calls come from its first call's town
    return day, district, town, template


def generic_calls(
    rng: np.random.Generator, n_calls: int, places: Places, config: SimulationConfig
) -> GenericCalls:
    """config.generic_call_share x n_calls background calls naming generic things (整个小区, 建设项目,
    自来水公司 ...) across districts and hotline categories, some with an estate of the town, with new
    callers; in time order, their ids after the first n_calls."""
    size = round(config.generic_call_share * n_calls)
    day, district, town, template = _generic_days_and_places(rng, size, places, config)
    texts = render(
        tuple(t for _, t, _ in _GENERIC_CALLS),
        template,
        {"estate": pick_in_town(rng, places.entities["estate"], town)},
    )
    phones = draw_phones(rng, size)
    texts = append_where(rng, texts, rng.random(size) < 0.03, CALL_PII[:2], {"phone": phones})
    seconds = call_seconds(rng, day, np.full(size, 0.07))
    order = np.argsort(seconds, kind="stable")
    call_ids = np.array([f"HL{n_calls + i:08d}" for i in range(1, size + 1)], dtype=object)
    hotline = text_frame(
        HOTLINE_COLUMNS,
        {
            "call_id": call_ids,
            "received_at": format_datetimes(rng, seconds[order], config.start),
            "district": np.array([d.name for d in DISTRICTS], dtype=object)[district[order]],
            "category": np.array([c for c, _, _ in _GENERIC_CALLS], dtype=object)[template[order]],
            "text": texts[order],
            "channel": choose(rng, CHANNELS, size, p=np.array([0.65, 0.08, 0.12, 0.15])),
            "case_id": np.full(size, None, dtype=object),
            "caller_name": caller_names(rng, draw_names(rng, size))[order],
            "caller_phone": blank(rng, format_phones(rng, phones, plain_share=0.5), 0.05)[order],
            "recorded_at": format_late(rng, seconds[order], 0.03, 1.0, 3.0, config),
        },
    )
    links = pd.DataFrame(
        {
            "call_id": pd.array(call_ids, dtype="str"),
            "true_case_id": pd.Series(np.full(size, None, dtype=object), dtype=object),
            "linked_in_export": np.zeros(size, dtype=bool),
        }
    )
    return GenericCalls(hotline, links)


def with_generic_calls(city: SimulatedCity, generic: GenericCalls) -> SimulatedCity:
    """The city with the generic calls appended to its hotline and its truth of links."""
    if generic.hotline.empty:
        return city
    return replace(
        city,
        hotline=pd.concat([city.hotline, generic.hotline], ignore_index=True),
        truth_links=pd.concat([city.truth_links, generic.truth_links], ignore_index=True),
    )
