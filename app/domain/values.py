"""``replace`` for the domain's frozen dataclasses, as ``dataclasses.replace`` but faster.

``evolve`` makes a changed copy of a unit's state, application or audit for nearly every event,
and a rebuild folds every event of the store: ``dataclasses.replace`` inspects the class's
fields at each call, this one once per class (a generated function that passes every field on).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")

_UNCHANGED = object()
_REPLACERS: dict[type, Callable[..., Any]] = {}


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of the dataclass instance ``obj`` with ``changes``; an unknown field raises
    ``TypeError``."""
    replacer = _REPLACERS.get(type(obj))
    if replacer is None:
        replacer = _REPLACERS[type(obj)] = _replacer(type(obj))
    result: T = replacer(obj, **changes)
    return result


def _replacer(cls: type) -> Callable[..., Any]:
    names = [f.name for f in fields(cls) if f.init]
    if any(f.name not in names for f in fields(cls)):
        raise TypeError(f"{cls.__name__} has fields outside __init__")
    parameters = ", ".join(f"{name}=_UNCHANGED" for name in names)
    arguments = ", ".join(f"o.{name} if {name} is _UNCHANGED else {name}" for name in names)
    namespace: dict[str, Any] = {"cls": cls, "_UNCHANGED": _UNCHANGED}
    exec(f"def replace(o, /, *, {parameters}):\n    return cls({arguments})", namespace)
    replacer: Callable[..., Any] = namespace["replace"]
    return replacer
