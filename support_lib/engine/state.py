"""The state schema: which keys a workflow's state may hold, their types, and reducers.

A workflow declares its state as a ``TypedDict`` (from ``typing_extensions``, which
Pydantic needs on Python < 3.12). We chose a TypedDict over a Pydantic model because the
state is a bag of keys that fills up as nodes finish: most keys are absent for most of a
run, nodes read and write single keys, and the trace must stay plain JSON. A TypedDict
says exactly that (``total=False``: every key may be absent), costs nothing at run time,
and lets each key carry its own metadata:

- ``Required[...]`` marks the run's **inputs** (what ``arun`` must be given);
- ``Annotated[list[str], operator.add]`` gives a key a **reducer**: how to combine a new
  value with the one already there. Without one, two nodes that may run at the same time
  must not write the key (the build-time checks reject it).

Values are JSON data. Every write is validated against the key's type with Pydantic and
stored in its JSON form: a key typed with a Pydantic model holds that model's dict (so a
trace saves as it is), and a wrong value is an error at the node that wrote it.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, NotRequired, Required, get_args, get_origin

import pydantic
from pydantic import TypeAdapter
from typing_extensions import get_type_hints, is_typeddict

from .errors import WorkflowDefinitionError, did_you_mean

Reducer = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class StateKey:
    """One key of the state: its type (without reducer), reducer, and whether it is an input."""

    name: str
    type: Any
    reducer: Reducer | None
    is_input: bool
    adapter: TypeAdapter[Any]

    def to_json(self, value: Any) -> Any:
        """``value`` checked against the key's type, in JSON form (raises ValidationError)."""
        return self.adapter.dump_python(self.adapter.validate_python(value), mode="json")

    def merge(self, current: Any, new: Any, present: bool) -> Any:
        """The value after a write: the reducer's combination, or simply the new value."""
        return self.reducer(current, new) if self.reducer and present else new


def _split(annotation: Any) -> tuple[Any, Reducer | None, bool | None]:
    """Unwrap ``Required``/``NotRequired`` and take the reducer out of ``Annotated``."""
    required = None
    if get_origin(annotation) in (Required, NotRequired):
        required = get_origin(annotation) is Required
        annotation = get_args(annotation)[0]
    if get_origin(annotation) is not Annotated:
        return annotation, None, required
    base, *metadata = get_args(annotation)
    reducers = [m for m in metadata if callable(m) and not isinstance(m, type)]
    others = [m for m in metadata if m not in reducers]
    kept = Annotated[(base, *others)] if others else base  # type: ignore[valid-type]
    return kept, (reducers[-1] if reducers else None), required


class StateSchema:
    """The keys of a state ``TypedDict``, read once (``schema_of`` caches it per class)."""

    def __init__(self, state_type: type):
        if not is_typeddict(state_type):
            raise WorkflowDefinitionError(
                f"the state schema must be a TypedDict (from typing_extensions), not {state_type!r}"
            )
        self.type = state_type
        self.name = state_type.__name__
        hints = get_type_hints(state_type, include_extras=True)
        required = set(getattr(state_type, "__required_keys__", ()))
        self.keys: dict[str, StateKey] = {}
        for name, annotation in hints.items():
            base, reducer, marked = _split(annotation)
            # With postponed annotations the class cannot see Required[...] itself.
            is_input = marked if marked is not None else name in required
            self.keys[name] = StateKey(name, base, reducer, is_input, TypeAdapter(base))
        self.inputs = tuple(name for name, key in self.keys.items() if key.is_input)

    def __contains__(self, name: object) -> bool:
        return name in self.keys

    def unknown_key(self, name: str) -> str:
        """A clause for a key the schema lacks, with the closest known key."""
        return f"is not a key of {self.name}{did_you_mean(name, self.keys)}"

    def path_problem(self, dotted: str) -> str | None:
        """Why ``a.b.c`` cannot exist in this state, or None when it can."""
        root, *rest = dotted.split(".")
        if root not in self.keys:
            return f"'{root}' {self.unknown_key(root)}"
        current, walked = self.keys[root].type, root
        for part in rest:
            fields = _fields_of(current)
            if fields is None:  # Any, dict[str, Any], ...: cannot be checked, so accepted
                return None
            if part not in fields:
                what = _type_name(current)
                if not fields:
                    return f"'{walked}' is {what}, which has no field '{part}'"
                hint = did_you_mean(part, fields)
                return f"'{walked}' ({what}) has no field '{part}'{hint}"
            current, walked = fields[part], f"{walked}.{part}"
        return None

    def describe(self) -> dict[str, str]:
        """Each key with its type as text (for traces and drawings)."""
        return {name: _type_name(key.type) for name, key in self.keys.items()}


@functools.cache
def schema_of(state_type: type) -> StateSchema:
    """The schema of a state TypedDict. Building type adapters takes milliseconds, so each
    class is read once per process."""
    return StateSchema(state_type)


def _fields_of(annotation: Any) -> Mapping[str, Any] | None:
    """The named fields of a type (TypedDict or Pydantic model); ``{}`` when it has none
    (a str, an int); None when anything goes (Any, a plain dict)."""
    options = [a for a in _union_members(annotation) if a is not type(None)]
    if len(options) != 1:
        merged: dict[str, Any] = {}
        for option in options:
            fields = _fields_of(option)
            if fields is None:
                return None
            merged.update(fields)
        return merged
    (annotation,) = options
    if get_origin(annotation) is Annotated:
        return _fields_of(get_args(annotation)[0])
    if is_typeddict(annotation):
        return {k: _split(v)[0] for k, v in get_type_hints(annotation).items()}
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return {name: f.annotation for name, f in annotation.model_fields.items()}
    if annotation is Any or get_origin(annotation) in (dict, Mapping) or annotation is dict:
        return None
    return {}


def _union_members(annotation: Any) -> tuple[Any, ...]:
    if get_origin(annotation) in (typing.Union, types.UnionType):
        return get_args(annotation)
    return (annotation,)


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type) and not get_args(annotation):
        return annotation.__name__
    return repr(annotation).replace("typing.", "").replace("typing_extensions.", "")
