"""Who acts on a listed case: the routing file's format, and the assignment and due dates it gives.

Fengqiao's way is "小事一格解决，大事全网联动": small matters are solved by the grid or the village
mediation committee, big ones handled jointly by the town's comprehensive governance centre and the
county. A routing file (TOML) says it for one city: the units that act (a name made from the case's
district and town, and how many cases a day each takes), how many days each band has before it is due,
and rules tried in order: the first whose conditions (district, town, category, band: each a list, a
missing one matching every case) all hold gives a case its unit, and `[default]` gives the unit of the
cases no rule matched. Only high and medium cases are assigned. `DEFAULT_ROUTING` is the file used when
none is configured (the same text as `examples/routing.toml`).

Assigning never changes a list's rows, order, scores or ranks: it adds the columns `ROUTING_COLUMNS`.
"""

from __future__ import annotations

import difflib
import hashlib
import string
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

ASSIGNED_BANDS: tuple[str, ...] = ("high", "medium")
# The columns assigning adds to a list: the unit that acts, the day it was first given the case (kept
# while later lists give the case to the same unit), and the last day to act on time.
ROUTING_COLUMNS: tuple[str, ...] = ("unit", "assigned_on", "due_date")
# A stored assignment: a listed case's unit (with its capacity), assignment day and due date.
ASSIGNMENT_COLUMNS: tuple[str, ...] = ("case_id", "district", "unit", "capacity", "assigned_on", "due_date")
PLACEHOLDERS = ("district", "town")
DEFAULT_SOURCE = "default"

AssignedBand = Literal["high", "medium"]


class RoutingError(ValueError):
    """A routing file that cannot be read or used; the message names the file, the rule and the field."""


def _as_tuple(value: object) -> object:
    """A condition written as one text is a list of one."""
    return (value,) if isinstance(value, str) else value


Condition = Annotated[tuple[Annotated[str, Field(min_length=1)], ...], BeforeValidator(_as_tuple)]
Bands = Annotated[tuple[AssignedBand, ...], BeforeValidator(_as_tuple)]
DueDays = dict[AssignedBand, Annotated[int, Field(ge=0)]]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Unit(_Strict):
    """A kind of unit that acts: its name for a case (a template of `{district}` and `{town}`) and how many
    cases a day one such unit takes."""

    name: Annotated[str, Field(min_length=1)]
    capacity: Annotated[int, Field(ge=1)]

    @field_validator("name")
    @classmethod
    def _known_placeholders(cls, name: str) -> str:
        fields = {field for _, field, _, _ in string.Formatter().parse(name) if field is not None}
        unknown = sorted(fields - set(PLACEHOLDERS))
        if unknown:
            raise ValueError(f"unknown placeholder {{{unknown[0]}}}; use {{district}} and {{town}}")
        return name


class Rule(_Strict):
    """Cases matching every given condition go to `unit` (with the band's due days, overridable)."""

    name: str | None = None
    district: Condition = ()
    town: Condition = ()
    category: Condition = ()
    band: Bands = ()
    unit: Annotated[str, Field(min_length=1)]
    due_days: DueDays = Field(default_factory=dict)

    @property
    def conditions(self) -> dict[str, tuple[str, ...]]:
        """The given conditions by column (none: the rule matches every case)."""
        given = {"district": self.district, "town": self.town, "category": self.category, "band": self.band}
        return {column: values for column, values in given.items() if values}


class Default(_Strict):
    """The unit of every assigned case no rule matched."""

    unit: Annotated[str, Field(min_length=1)]
    due_days: DueDays = Field(default_factory=dict)


class BandDays(_Strict):
    """Days a unit has to act on a case of each assigned band."""

    high: Annotated[int, Field(ge=0)]
    medium: Annotated[int, Field(ge=0)]


class RoutingTable(_Strict):
    """A whole routing file."""

    due_days: BandDays
    units: Annotated[dict[str, Unit], Field(min_length=1)]
    rules: tuple[Rule, ...] = ()
    default: Default


@dataclass(frozen=True)
class Routing:
    """A checked routing table, where it came from (a path, or "default") and the SHA-256 of its text."""

    table: RoutingTable
    source: str
    sha256: str


def _rule_label(table: Mapping[str, Any], index: int) -> str:
    """'rule 3' (1-based, as a reader counts [[rules]]), with the rule's name when it has one."""
    rules = table.get("rules")
    name = rules[index].get("name") if isinstance(rules, list) and isinstance(rules[index], dict) else None
    return f"rule {index + 1}" + (f" ({name})" if name else "")


def _where(document: Mapping[str, Any], location: tuple[int | str, ...]) -> str:
    """A validation error's location in the file's words: 'rule 3, field band', 'unit grid, field
    capacity', 'default, field unit', 'field due_days.high'."""
    head, rest = (location[0], location[1:]) if location else ("", ())
    if head == "rules" and rest and isinstance(rest[0], int):
        prefix, rest = _rule_label(document, rest[0]), rest[1:]
    elif head == "units" and rest:
        prefix, rest = f"unit {rest[0]}", rest[1:]
    elif head == "default":
        prefix = "default"
    else:
        prefix, rest = "", location
    fields = ".".join(str(part) for part in rest if not isinstance(part, int))
    if not fields:
        return prefix or "the top level"
    return f"{prefix}, field {fields}" if prefix else f"field {fields}"


def _parse(text: str, source: str) -> tuple[dict[str, Any], RoutingTable]:
    """The file's document and its table, or RoutingError naming the file and where it is wrong."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RoutingError(f"{source}: not valid TOML: {error}") from error
    try:
        return document, RoutingTable.model_validate(document)
    except ValidationError as error:
        errors = error.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        message = {
            "extra_forbidden": "unknown key (examples/routing.toml shows the keys a routing file has)",
            "missing": "missing (every routing file has it)",
        }.get(first["type"], first["msg"].removeprefix("Value error, "))
        raise RoutingError(f"{source}: {_where(document, tuple(first['loc']))}: {message}") from error


def _close(name: str, known: Collection[str]) -> str:
    """' (did you mean X?)' for a close known name, else ''."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _check_references(table: RoutingTable, document: Mapping[str, Any], source: str) -> None:
    """Every rule's unit exists, and no rule but the default matches every case before others."""
    for index, rule in enumerate(table.rules):
        label = _rule_label(document, index)
        if rule.unit not in table.units:
            raise RoutingError(
                f"{source}: {label}, field unit: unknown unit {rule.unit!r}{_close(rule.unit, table.units)}; "
                f"the file's units are {', '.join(table.units)}"
            )
        if not rule.conditions and index < len(table.rules) - 1:
            raise RoutingError(
                f"{source}: {label} has no condition, so it matches every case and the rules after it are "
                "never used; give it conditions, or make its unit the [default]"
            )
    if table.default.unit not in table.units:
        raise RoutingError(
            f"{source}: default, field unit: unknown unit {table.default.unit!r}"
            f"{_close(table.default.unit, table.units)}; the file's units are {', '.join(table.units)}"
        )


def _check_places(
    table: RoutingTable,
    document: Mapping[str, Any],
    source: str,
    districts: Collection[str] | None,
    towns: Collection[str] | None,
) -> None:
    """Every district (and town) a rule names is one the store knows."""
    for field, known in (("district", districts), ("town", towns)):
        if known is None:
            continue
        known = set(known)
        for index, rule in enumerate(table.rules):
            for name in getattr(rule, field):
                if name not in known:
                    raise RoutingError(
                        f"{source}: {_rule_label(document, index)}, field {field}: unknown {field} "
                        f"{name!r}: no case in the store is in it{_close(name, known)}"
                    )


def parse_routing(
    text: str,
    source: str = DEFAULT_SOURCE,
    districts: Collection[str] | None = None,
    towns: Collection[str] | None = None,
) -> Routing:
    """A routing file's text, checked: RoutingError naming the file (`source`), the rule and the field for
    bad TOML, an unknown key or value, a unit no unit entry defines, a rule hiding the rules after it, and
    (when given the store's) a district or town no case is in."""
    document, table = _parse(text, source)
    _check_references(table, document, source)
    _check_places(table, document, source, districts, towns)
    return Routing(table, source, hashlib.sha256(text.encode()).hexdigest())


def load_routing(
    path: Path | None, districts: Collection[str] | None = None, towns: Collection[str] | None = None
) -> Routing:
    """The routing file at `path` (the shipped default when None), checked as `parse_routing` does."""
    if path is None:
        return parse_routing(DEFAULT_ROUTING, DEFAULT_SOURCE, districts, towns)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise RoutingError(f"{path}: cannot read the routing file: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise RoutingError(f"{path}: the routing file is not UTF-8 text; save it as UTF-8") from error
    return parse_routing(text, str(path), districts, towns)


def _matches(listed: pd.DataFrame, rule: Rule) -> pd.Series:
    """The rows a rule's conditions all hold for."""
    keep = pd.Series(True, index=listed.index)
    for column, values in rule.conditions.items():
        keep &= listed[column].isin(values)
    return keep


def _place(district: object, town: object) -> dict[str, str]:
    """The placeholders of a unit's name for one case: its town is its district when not recorded."""
    town_text = town if isinstance(town, str) and town.strip() else district
    return {"district": str(district), "town": str(town_text)}


def _route(listed: pd.DataFrame, table: RoutingTable) -> pd.DataFrame:
    """Per assigned row (high and medium): the unit's key in the file, its name and the days to act."""
    rows = listed[listed["band"].isin(ASSIGNED_BANDS)]
    choice = pd.Series(-1, index=rows.index)  # index of the rule that matched; -1: the default
    for index, rule in reversed(list(enumerate(table.rules))):  # the first matching rule wins
        choice[_matches(rows, rule)] = index
    rules = [*table.rules, table.default]
    chosen = [rules[i] for i in choice]
    keys = [rule.unit for rule in chosen]
    names = [
        table.units[key].name.format(**_place(district, town))
        for key, district, town in zip(keys, rows["district"], rows["town"], strict=True)
    ]
    usual = table.due_days.model_dump()
    days = [{**usual, **rule.due_days}[band] for rule, band in zip(chosen, rows["band"], strict=True)]
    return pd.DataFrame(
        {
            "unit_key": keys,
            "unit": names,
            "capacity": [table.units[key].capacity for key in keys],
            "due_days": days,
        },
        index=rows.index,
    )


def assign_units(
    listed: pd.DataFrame, table: RoutingTable, as_of: date, previous: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The list with who acts (`ROUTING_COLUMNS` added): each high and medium case gets the unit of the
    first rule it matches (the default's when none does), the day it was assigned and its due date
    (that day plus the band's due days); low cases get none. A case the previous list (`previous`:
    case_id, unit, assigned_on, due_date) gave to the same unit keeps its assignment day and its due
    date, unless its band now makes it due sooner. Rows, order, scores and ranks are left as they are."""
    routed = _route(listed, table)
    fresh_due = pd.Series(
        [as_of + timedelta(days=int(d)) for d in routed["due_days"]], index=routed.index, dtype=object
    )
    assigned_on = pd.Series(as_of, index=routed.index, dtype=object)
    due = fresh_due.copy()
    if previous is not None and len(previous) and len(routed):
        before = previous.set_index("case_id")
        case_ids = listed.loc[routed.index, "case_id"]
        kept_unit = case_ids.map(before["unit"])
        same = (kept_unit == routed["unit"]).fillna(False).astype(bool)
        if same.any():
            assigned_on[same] = case_ids[same].map(before["assigned_on"]).map(_as_date)
            earlier = case_ids[same].map(before["due_date"]).map(_as_date)
            due[same] = [min(a, b) for a, b in zip(earlier, fresh_due[same], strict=True)]
    out = listed.copy()
    out["unit"] = routed["unit"].astype("str").reindex(listed.index)
    for column, days in (("assigned_on", assigned_on), ("due_date", due)):
        dates = days.reindex(listed.index).astype(object)
        out[column] = dates.where(dates.notna(), None)
    return out


def _as_date(value: object) -> date:
    """A stored date (a date, a timestamp or ISO text) as a date."""
    return value if type(value) is date else pd.Timestamp(value).date()


def assignment_rows(routed: pd.DataFrame, table: RoutingTable) -> pd.DataFrame:
    """A routed list's assigned cases as the store keeps them (`ASSIGNMENT_COLUMNS`): with each unit's
    capacity, so a worklist reads it without the file (which may change later)."""
    assigned = routed[routed["unit"].notna()]
    capacity = _route(assigned, table)["capacity"] if len(assigned) else pd.Series(dtype="int64")
    return pd.DataFrame(
        {
            "case_id": assigned["case_id"],
            "district": assigned["district"],
            "unit": assigned["unit"],
            "capacity": capacity.astype("int64"),
            "assigned_on": assigned["assigned_on"],
            "due_date": assigned["due_date"],
        }
    ).reset_index(drop=True)[list(ASSIGNMENT_COLUMNS)]


def check_routed(routed: pd.DataFrame) -> None:
    """Raise ValueError naming the first row whose assignment breaks the rules: high and medium rows
    have a unit, an assignment day on or before the list's day and a due date not before it; low rows
    have none of them."""
    assigned = routed["band"].isin(ASSIGNED_BANDS).to_numpy()
    present = routed[list(ROUTING_COLUMNS)].notna().to_numpy()
    wrong = (assigned & ~present.all(axis=1)) | (~assigned & present.any(axis=1))
    if wrong.any():
        row = int(np.flatnonzero(wrong)[0])
        needs = "needs a unit, an assignment day and a due date" if assigned[row] else "has no assignment"
        raise ValueError(f"list row {row + 1}: a {routed['band'].iloc[row]} case {needs}")
    dated = routed[assigned]
    order = (dated["assigned_on"] > dated["as_of"]) | (dated["due_date"] < dated["assigned_on"])
    if order.any():
        row = int(np.flatnonzero(assigned)[np.flatnonzero(order.to_numpy())[0]])
        raise ValueError(f"list row {row + 1}: assigned after the list's day, or due before it was assigned")


def work_status(assigned: pd.DataFrame, actions: pd.DataFrame, reference: date) -> pd.DataFrame:
    """Assigned cases with what was done: `acted` (actions recorded on the case since the day it was
    assigned, from `actions`: case_id, recorded_at), `overdue` (no action, and its due date is before the
    reference day) and `days_overdue` (0 when not overdue)."""
    stamps = actions[["case_id", "recorded_at"]].merge(
        assigned[["case_id", "assigned_on"]].drop_duplicates("case_id"), on="case_id"
    )
    since = stamps[pd.to_datetime(stamps["recorded_at"]) >= pd.to_datetime(stamps["assigned_on"])]
    acted = assigned["case_id"].map(since.groupby("case_id").size()).fillna(0).astype(int)
    late_days = (pd.Timestamp(reference) - pd.to_datetime(assigned["due_date"])).dt.days
    overdue = (acted == 0) & (late_days > 0)
    return assigned.assign(acted=acted, overdue=overdue, days_overdue=late_days.where(overdue, 0).astype(int))


UNIT_SUMMARY_COLUMNS = ("unit", "capacity", "assigned", "new", "acted", "overdue", "over_capacity")


def unit_summary(status: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per unit (by name), from `work_status` rows of one list: capacity (cases a day), cases assigned,
    new ones (assigned on the list's day `as_of`), cases acted on, overdue cases, and whether the new
    cases are more than the unit takes in a day."""
    if status.empty:
        return pd.DataFrame({column: pd.Series(dtype=object) for column in UNIT_SUMMARY_COLUMNS})
    frame = status.assign(new=status["assigned_on"].map(_as_date) == as_of, has_acted=status["acted"] > 0)
    table = (
        frame.groupby("unit", sort=True)
        .agg(
            capacity=("capacity", "max"),
            assigned=("case_id", "size"),
            new=("new", "sum"),
            acted=("has_acted", "sum"),
            overdue=("overdue", "sum"),
        )
        .reset_index()
    )
    table["over_capacity"] = table["new"] > table["capacity"]
    return table[list(UNIT_SUMMARY_COLUMNS)].astype(
        {c: "int64" for c in ("capacity", "assigned", "new", "acted", "overdue")}
    )


DEFAULT_ROUTING = """\
# Who acts on a listed case: Fengqiao's "小事一格解决，大事全网联动" (small matters solved by the grid or
# the village mediation committee; big ones handled jointly by the town's comprehensive governance centre
# and the county). Every high and medium case of a published list gets the unit of the first rule it
# matches, or the [default] unit, and a due date: the day it was assigned plus its band's due days.
# Set FENGQIAO_ROUTING_FILE to a copy of this file to change it; `district` and `town` conditions must
# name places the store has cases in.

# Days a unit has to act on a case of each band (a high case assigned on 3 May is due by 5 May).
[due_days]
high = 2
medium = 7

# The units that act. `name` is made from the case's {district} and {town} (the district when the case
# has no town); `capacity` is how many listed cases one such unit takes a day.
[units.grid]
name = "{town}网格"
capacity = 20

[units.village_committee]
name = "{town}村（社区）调委会"
capacity = 10

[units.justice_office]
name = "{town}司法所"
capacity = 8

[units.police_station]
name = "{town}派出所"
capacity = 5

[units.town_centre]
name = "{town}综治中心"
capacity = 10

[units.county_centre]
name = "{district}矛调中心"
capacity = 15

# Rules, tried in order; each condition is a list, a missing one matches every case. Also possible:
# district = ["..."], town = ["..."], and due_days = { high = 1 } to give a rule's cases other due days.
[[rules]]
name = "大事全网联动：易引发群体性事件的高风险纠纷由县矛调中心牵头"
band = ["high"]
category = ["征地拆迁", "劳资纠纷", "土地山林"]
unit = "county_centre"

[[rules]]
name = "可能民转刑的高风险家庭、邻里纠纷由派出所介入"
band = ["high"]
category = ["婚姻家庭", "邻里纠纷"]
unit = "police_station"

[[rules]]
name = "其他高风险纠纷由乡镇综治中心统筹"
band = ["high"]
unit = "town_centre"

[[rules]]
name = "中风险的劳资、合同、赔偿类纠纷由司法所指导调解"
band = ["medium"]
category = ["劳资纠纷", "消费纠纷", "医疗纠纷", "交通事故", "物业纠纷", "征地拆迁", "土地山林"]
unit = "justice_office"

[[rules]]
name = "中风险的家庭、邻里纠纷由村（社区）调委会调解"
band = ["medium"]
category = ["婚姻家庭", "邻里纠纷"]
unit = "village_committee"

# 小事一格解决: every other assigned case goes to the town's grid.
[default]
unit = "grid"
"""
