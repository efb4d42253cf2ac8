"""Read models built from rows the database already typed, without pydantic's per-field work.

`model_construct` walks every field of the model for aliases and defaults on each call: for a page of 50 centers that
was a fifth of the request's CPU (bench/RESULTS.md, run 4). A lean read's row holds every field already, in the
contract's types, so `constructor(Model)` checks once that the model has nothing `model_construct` would add (no
aliases, no validation aliases, no private attributes or post-init, not a root model, extra fields not kept) and
returns a function that sets the instance's fields directly — what `model_construct` ends with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)
_set = object.__setattr__


def constructor(cls: type[M]) -> Callable[[dict[str, Any]], M]:
    fields = cls.model_fields
    plain = (
        not cls.__pydantic_root_model__
        and cls.__pydantic_post_init__ is None
        and not cls.__private_attributes__
        and cls.model_config.get("extra") != "allow"
        and all(field.alias in (None, name) and field.validation_alias is None for name, field in fields.items())
    )
    if not plain:
        raise TypeError(f"{cls.__name__} needs model_construct: it has aliases, private attributes or a post-init")
    names = frozenset(fields)

    def construct(values: dict[str, Any]) -> M:
        if values.keys() != names:
            raise ValueError(f"{cls.__name__} needs exactly its fields; differing: {sorted(values.keys() ^ names)}")
        model = cls.__new__(cls)
        _set(model, "__dict__", values)
        _set(model, "__pydantic_fields_set__", set(names))
        _set(model, "__pydantic_extra__", None)
        _set(model, "__pydantic_private__", None)
        return model

    return construct
