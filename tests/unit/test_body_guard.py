"""The middleware's JSON depth guard: refuses what nests too deep before any parser recurses, cheaply (issue 12)."""

from __future__ import annotations

import json
import time

import pytest

from app.api.middleware import nests_deeper_than


def nest(depth: int, open_: str = "[", close: str = "]") -> bytes:
    return (open_ * depth + close * depth).encode()


@pytest.mark.parametrize(
    ("body", "limit", "deeper"),
    [
        (nest(16), 16, False),
        (nest(17), 16, True),
        (nest(17, '{"a":', "}"), 16, True),
        (nest(16, '{"a":', "}"), 16, False),
        (b"[{" * 8 + b"[1]" + b"}]" * 8, 16, True),  # 17 levels, arrays and objects mixed
        (b"[" + b"[]," * 1000 + b"[]]", 16, False),  # wide, not deep
        (json.dumps({"x": "[" * 100, "y": [[[[1]]]]}).encode(), 5, False),  # brackets inside strings do not count
        (json.dumps({"x": 'a\\"' + "[" * 100, "y": [[[[1]]]]}).encode(), 4, True),  # nor after escaped quotes
        (json.dumps({"x": 'a\\"' + "[" * 100, "y": [[[[1]]]]}).encode(), 5, False),
        (b"[" * 17, 16, True),  # opened and never closed: the parser would still recurse into it
        (b"]" * 100 + b"[1]", 16, False),  # malformed, not deep: the parser refuses it
    ],
)
def test_a_body_nests_deeper_than_the_limit_or_not(body: bytes, limit: int, deeper: bool) -> None:
    assert nests_deeper_than(body, limit) is deeper
    assert nests_deeper_than(bytearray(body), limit) is deeper


def test_a_mebibyte_of_adversarial_brackets_is_judged_in_well_under_a_second() -> None:
    mib = 1024 * 1024
    bodies = [
        b"[" * (mib // 2) + b"]" * (mib // 2),
        nest(16) * (mib // 32),
        nest(16, '{"a":', "}") * (mib // 96),
        b'["a[b",' * (mib // 7) + b"1]",
    ]
    started = time.perf_counter()
    for body in bodies:
        nests_deeper_than(body, 16)
    assert time.perf_counter() - started < 1.0
