"""Does a new OpenAPI document keep the promises of a released one? (issue 15, the breaking-change gate)

`breaking_changes(baseline, current)` lists what would break a client written against `baseline`:

- a path, or a method on a path, that is gone (a renamed path is a removed one);
- a request field or parameter that is newly required, or a request field that is gone (request bodies refuse
  unknown fields, so a client still sending it would be answered 422);
- an enum that lost a value where the client sends it (request bodies, parameters);
- a response field that is gone, or no longer always present (it was required and is not any more), in a 2xx answer.

Schemas are compared through their `$ref`s, into nested objects, array items and `anyOf`/`oneOf`/`allOf` branches.
`check(baseline, current)` applies the versioning rule (README "Versioning the contract"): breaking changes are
allowed only with a higher major number in `info.version`. Pure functions over parsed JSON; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

VERBS = ("get", "put", "post", "patch", "delete", "head", "options")
Json = dict[str, Any]


@dataclass(frozen=True)
class Verdict:
    breaking: list[str]
    baseline_version: str
    current_version: str

    @property
    def major_raised(self) -> bool:
        return major(self.current_version) > major(self.baseline_version)

    @property
    def ok(self) -> bool:
        return not self.breaking or self.major_raised


def major(version: str) -> int:
    head = version.split(".", 1)[0].lstrip("vV")
    if not head.isdigit():
        raise ValueError(f"info.version {version!r} does not start with a major number")
    return int(head)


def check(baseline: Json, current: Json) -> Verdict:
    return Verdict(
        breaking=breaking_changes(baseline, current),
        baseline_version=str(baseline["info"]["version"]),
        current_version=str(current["info"]["version"]),
    )


def breaking_changes(baseline: Json, current: Json) -> list[str]:
    out: list[str] = []
    old_paths: Json = baseline.get("paths", {})
    new_paths: Json = current.get("paths", {})
    for path, old_item in old_paths.items():
        new_item = new_paths.get(path)
        if new_item is None:
            out.append(f"path removed: {path}")
            continue
        for verb in VERBS:
            if verb not in old_item:
                continue
            where = f"{verb.upper()} {path}"
            if verb not in new_item:
                out.append(f"operation removed: {where}")
                continue
            old_op, new_op = old_item[verb], new_item[verb]
            out.extend(_parameters(where, baseline, current, old_item, new_item, old_op, new_op))
            out.extend(_request_body(where, baseline, current, old_op, new_op))
            out.extend(_responses(where, baseline, current, old_op, new_op))
    return out


# --- parameters and request bodies: what the client sends ---------------------------------------------------------


def _params(document: Json, item: Json, operation: Json) -> dict[tuple[str, str], Json]:
    found: dict[tuple[str, str], Json] = {}
    for raw in (*item.get("parameters", []), *operation.get("parameters", [])):
        parameter = _resolve(document, raw)
        found[(parameter["in"], parameter["name"])] = parameter
    return found


def _parameters(
    where: str, baseline: Json, current: Json, old_item: Json, new_item: Json, old_op: Json, new_op: Json
) -> Iterator[str]:
    old, new = _params(baseline, old_item, old_op), _params(current, new_item, new_op)
    for key, parameter in new.items():
        was = old.get(key)
        if parameter.get("required") and not (was or {}).get("required"):
            yield f"request parameter newly required: {where} {key[0]} {key[1]}"
    for key, parameter in old.items():
        if key in new:
            yield from _sent(
                where, f"{key[0]} {key[1]}", baseline, current, parameter.get("schema", {}), new[key].get("schema", {})
            )


def _json_schema(document: Json, holder: Json | None) -> Json | None:
    if holder is None:
        return None
    content = _resolve(document, holder).get("content", {})
    for media_type, body in content.items():
        if media_type == "application/json" or media_type.endswith("+json"):
            schema: Json = body.get("schema", {})
            return schema
    return None


def _request_body(where: str, baseline: Json, current: Json, old_op: Json, new_op: Json) -> Iterator[str]:
    old_body, new_body = old_op.get("requestBody"), new_op.get("requestBody")
    newly_required = new_body is not None and _resolve(current, new_body).get("required")
    if newly_required and (old_body is None or not _resolve(baseline, old_body).get("required")):
        yield f"request body newly required: {where}"
    old_schema, new_schema = _json_schema(baseline, old_body), _json_schema(current, new_body)
    if old_schema is not None and new_schema is not None:
        yield from _sent(where, "body", baseline, current, old_schema, new_schema)


def _sent(
    where: str, at: str, baseline: Json, current: Json, old: Json, new: Json, seen: frozenset[str] = frozenset()
) -> Iterator[str]:
    """What a client sends as `old` described it must still be accepted as `new` describes it."""
    old_view, new_view = _view(baseline, old), _view(current, new)
    key = f"{old_view.ref}|{new_view.ref}"
    if old_view.ref and key in seen:
        return
    seen = seen | {key}
    if old_view.enum is not None and new_view.enum is not None:
        lost = [value for value in old_view.enum if value not in new_view.enum]
        if lost:
            yield f"request enum narrowed: {where} {at} no longer accepts {lost}"
    for name in sorted(new_view.required - old_view.required):
        yield f"request field newly required: {where} {at}.{name}"
    for name, old_property in old_view.properties.items():
        new_property = new_view.properties.get(name)
        if new_property is None:
            if new_view.properties or new_view.required:
                yield f"request field removed: {where} {at}.{name}"
            continue
        yield from _sent(where, f"{at}.{name}", baseline, current, old_property, new_property, seen)
    if old_view.items is not None and new_view.items is not None:
        yield from _sent(where, f"{at}[]", baseline, current, old_view.items, new_view.items, seen)


# --- responses: what the client reads ------------------------------------------------------------------------------


def _responses(where: str, baseline: Json, current: Json, old_op: Json, new_op: Json) -> Iterator[str]:
    new_responses: Json = new_op.get("responses", {})
    for status, old_response in old_op.get("responses", {}).items():
        if not str(status).startswith("2"):
            continue
        new_response = new_responses.get(status)
        if new_response is None:
            yield f"response removed: {where} {status}"
            continue
        old_schema, new_schema = _json_schema(baseline, old_response), _json_schema(current, new_response)
        if old_schema is not None and new_schema is None:
            yield f"response body removed: {where} {status}"
        elif old_schema is not None and new_schema is not None:
            yield from _read(f"{where} {status}", "body", baseline, current, old_schema, new_schema)


def _read(
    where: str, at: str, baseline: Json, current: Json, old: Json, new: Json, seen: frozenset[str] = frozenset()
) -> Iterator[str]:
    """Every field a client could read as `old` described it is still there as `new` describes it."""
    old_view, new_view = _view(baseline, old), _view(current, new)
    key = f"{old_view.ref}|{new_view.ref}"
    if old_view.ref and key in seen:
        return
    seen = seen | {key}
    for name, old_property in old_view.properties.items():
        new_property = new_view.properties.get(name)
        if new_property is None:
            yield f"response field removed: {where} {at}.{name}"
            continue
        if name in old_view.required and name not in new_view.required:
            yield f"response field no longer always present: {where} {at}.{name}"
        yield from _read(where, f"{at}.{name}", baseline, current, old_property, new_property, seen)
    if old_view.items is not None and new_view.items is not None:
        yield from _read(where, f"{at}[]", baseline, current, old_view.items, new_view.items, seen)


# --- schemas, flattened ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _View:
    """A schema seen through `$ref` and composition: its properties, required names, array items and enum."""

    ref: str
    properties: dict[str, Json]
    required: frozenset[str]
    items: Json | None
    enum: list[Any] | None


def _resolve(document: Json, node: Json) -> Json:
    for _ in range(32):  # a $ref chain longer than this is a malformed document
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return node
        target: Any = document
        for part in ref.removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    raise ValueError("$ref chain too long")


def _view(document: Json, schema: Json) -> _View:
    ref = str(schema.get("$ref", ""))
    node = _resolve(document, schema)
    properties: dict[str, Json] = dict(node.get("properties", {}))
    required = set(node.get("required", []))
    items = node.get("items")
    enum = [node["const"]] if "const" in node else list(node["enum"]) if "enum" in node else None
    for keyword in ("allOf", "anyOf", "oneOf"):
        raw = [_resolve(document, branch) for branch in node.get(keyword, [])]
        # `anyOf: [X, {"type": "null"}]` is how an optional X is written: the null branch adds nothing to compare.
        branches = [
            _view(document, branch)
            for branch, body in zip(node.get(keyword, []), raw, strict=True)
            if body.get("type") != "null"
        ]
        for branch in branches:
            for name, value in branch.properties.items():
                properties.setdefault(name, value)
            items = items if items is not None else branch.items
        if keyword == "allOf":
            for branch in branches:
                required |= branch.required
        elif branches:
            # A field is sure to be there only when every branch requires it; values are accepted when any branch
            # accepts them, so an enum is only as narrow as its widest branch (None: some branch takes any value).
            required |= frozenset.intersection(*(branch.required for branch in branches))
            if all(branch.enum is not None for branch in branches):
                enum = [value for branch in branches for value in branch.enum or []]
    return _View(ref=ref, properties=properties, required=frozenset(required), items=items, enum=enum)
