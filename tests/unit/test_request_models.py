"""Request models are strict (issue 12): an integer field refuses `"2027"` and `2027.0`, a boolean refuses `"true"`,
while ids, decimals and dates, which JSON can carry only as text, still parse from it."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

import app.api.v1
from app.api.v1.common import MAX_FREE_JSON_BYTES, MAX_FREE_JSON_DEPTH, FreeJson, Strict, json_depth

# Core schema types whose only JSON spelling is text (or, for decimals, a number), never a Python object.
TEXT_TYPES = frozenset({"uuid", "decimal", "date", "datetime", "time", "timedelta"})


def request_models() -> list[type[Strict]]:
    for module in pkgutil.walk_packages(app.api.v1.__path__, "app.api.v1."):
        importlib.import_module(module.name)
    seen: list[type[Strict]] = []
    stack: list[type[Strict]] = [Strict]
    while stack:
        model = stack.pop()
        for sub in model.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                stack.append(sub)
    return sorted(seen, key=lambda m: f"{m.__module__}.{m.__qualname__}")


def strict_text_nodes(schema: Any) -> Iterator[str]:
    """Nodes of TEXT_TYPES that strict validation would refuse as text: inside a strict model, not marked lax."""
    stack: list[tuple[Any, bool, str]] = [(schema, False, "")]
    while stack:
        node, strict, where = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "model" and isinstance(node.get("config"), dict):
                strict = bool(node["config"].get("strict", False))
                where = str(node.get("cls", where))
            if node.get("type") in TEXT_TYPES and node.get("strict", strict) is not False:
                yield f"{where}: {node['type']}"
            stack.extend((child, strict, where) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, strict, where) for child in node)


def test_every_request_model_is_strict() -> None:
    models = request_models()
    assert len(models) > 30
    assert all(model.model_config.get("strict") is True for model in models)


@pytest.mark.parametrize("model", request_models(), ids=lambda m: m.__qualname__)
def test_ids_decimals_and_dates_parse_from_text_in_every_request_model(model: type[BaseModel]) -> None:
    assert list(strict_text_nodes(model.__pydantic_core_schema__)) == []


# --- free-form JSON: bounded in depth and size ------------------------------------------------------------------


def free(value: Any) -> Any:
    return TypeAdapter(FreeJson).validate_python(value)


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "depth"),
    [("x", 0), (None, 0), ([], 1), ({"a": 1}, 1), ([{"org_id": "x"}], 2), ({"a": [1, {"b": []}]}, 4), (nested(8), 8)],
)
def test_json_depth_counts_arrays_and_objects(value: Any, depth: int) -> None:
    assert json_depth(value) == depth
    assert free(value) == value


def test_free_json_refuses_a_ninth_level_and_stops_counting_there() -> None:
    with pytest.raises(ValidationError) as refused:
        free(nested(MAX_FREE_JSON_DEPTH + 1))
    assert [e["type"] for e in refused.value.errors()] == ["json_too_deep"]
    assert json_depth(nested(10_000)) == MAX_FREE_JSON_DEPTH + 1  # iterative, and it stops past the bound


def test_free_json_refuses_more_than_64_kib_and_non_finite_numbers() -> None:
    at_limit = "x" * (MAX_FREE_JSON_BYTES - 2)  # plus its two quotes
    assert free(at_limit) == at_limit
    with pytest.raises(ValidationError) as refused:
        free(at_limit + "x")
    assert [e["type"] for e in refused.value.errors()] == ["json_too_large"]
    with pytest.raises(ValidationError) as refused:
        free("汉" * (MAX_FREE_JSON_BYTES // 3))  # counted in UTF-8 bytes, not characters
    assert [e["type"] for e in refused.value.errors()] == ["json_too_large"]
    for number in (float("nan"), float("inf")):
        with pytest.raises(ValidationError) as refused:
            free({"a": number})
        assert [e["type"] for e in refused.value.errors()] == ["json_not_finite"]
