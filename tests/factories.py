"""Builders for test data, through the public API so every test exercises the same paths integrators use."""

from __future__ import annotations

import itertools
import random
import uuid
from typing import Any

import httpx

from app.domain.credit_code import CHARSET, credit_code_check_char, org_code_check_char

_counter = itertools.count(1)
_random = random.Random(20210811)
# Codes are consecutive from a random start, so no two in one process are the same: drawn at random, thousands of
# organizations (the sequencer's load tests) met the birthday bound and a 409 already-exists about one run in five.
_first = _random.randrange(10**8)


def credit_code() -> str:
    """A fresh, valid unified social credit code (GB 32100-2015 with a GB 11714 organization code)."""
    n = next(_counter)
    body8 = f"{(_first + n) % 10**8:08d}"
    body8 = "M" + body8[1:] if n % 3 == 0 else body8  # sometimes a letter, as real codes have
    org = body8 + org_code_check_char(body8)
    head = "91" + "410100"
    code17 = head + org
    code = code17 + credit_code_check_char(code17)
    assert all(c in CHARSET for c in code)
    return code


async def create_org(client: httpx.AsyncClient, province: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"测试单位{uuid.uuid4().hex[:6]}",
        "credit_code": credit_code(),
        "kind": "enterprise",
        "region": "郑州市",
        "is_leading_enterprise": False,
        "zones": [],
        "registered_on": "2010-01-01",
    }
    body.update(overrides)
    response = await client.post("/api/v1/organizations", json=body, headers=province)
    assert response.status_code == 201, response.text
    return dict(response.json())
