"""Field specifications derived from the pydantic records, for vectorised frame checks."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Literal

import annotated_types
from pydantic import BaseModel, BeforeValidator

from contracts.records import RECORD_MODELS, FreeText, Personal
from contracts.vocabulary import RecordKind

FieldType = Literal["string", "datetime", "integer", "number", "enum"]


@dataclass(frozen=True)
class FieldSpec:
    """What the contract requires of one column."""

    name: str
    type: FieldType
    required: bool
    minimum: float | None = None
    choices: tuple[str, ...] = ()
    personal: bool = False
    free_text: bool = False


def _base_type(annotation: object) -> object:
    """The annotation without Optional/Annotated wrappers."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _base_type(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(members[0])
    return annotation


def _spec_type(base: object) -> FieldType:
    if isinstance(base, type) and issubclass(base, Enum):
        return "enum"
    if base is datetime:
        return "datetime"
    if base is int:
        return "integer"
    if base is float:
        return "number"
    return "string"


def _all_metadata(name: str, model: type[BaseModel]) -> list[object]:
    """Constraint and marker metadata of a field, from pydantic and from nested Annotated types."""
    info = model.model_fields[name]
    found = list(info.metadata)
    annotation = info.annotation
    stack = [annotation]
    while stack:
        current = stack.pop()
        if typing.get_origin(current) is typing.Annotated:
            found.extend(typing.get_args(current)[1:])
        stack.extend(typing.get_args(current))
    return found


# Constraints the vectorised checks implement; any other constraint on a record must be added here first.
_UNDERSTOOD = (annotated_types.Ge, annotated_types.MinLen, Personal, FreeText, BeforeValidator)


@cache
def field_specs(kind: RecordKind) -> tuple[FieldSpec, ...]:
    """Column specifications of one record kind, in contract order."""
    model = RECORD_MODELS[kind]
    specs = []
    for name, info in model.model_fields.items():
        base = _base_type(info.annotation)
        metadata = _all_metadata(name, model)
        unknown = [m for m in metadata if not isinstance(m, _UNDERSTOOD)]
        if unknown:
            raise TypeError(f"{model.__name__}.{name}: frame checks do not implement {unknown}; add them")
        if any(isinstance(m, annotated_types.MinLen) and m.min_length > 1 for m in metadata):
            raise TypeError(f"{model.__name__}.{name}: only min_length=1 (non-empty) is implemented")
        minimum = next((m.ge for m in metadata if isinstance(m, annotated_types.Ge)), None)
        choices = tuple(member.value for member in base) if _spec_type(base) == "enum" else ()
        specs.append(
            FieldSpec(
                name=name,
                type=_spec_type(base),
                required=info.is_required(),
                minimum=minimum,
                choices=choices,
                personal=any(isinstance(m, Personal) for m in metadata),
                free_text=any(isinstance(m, FreeText) for m in metadata),
            )
        )
    return tuple(specs)


def columns_of(kind: RecordKind) -> tuple[str, ...]:
    """The contract's column names for a record kind."""
    return tuple(spec.name for spec in field_specs(kind))
