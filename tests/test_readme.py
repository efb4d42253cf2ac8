"""The README shows what the code does: its diagrams are generated from the tables, its walk-through is the script."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cryptography.exceptions import InvalidSignature

from app.__main__ import diagrams_markdown
from tests.conftest import TokenFactory

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_diagrams_are_the_ones_generated_from_the_transition_tables() -> None:
    assert diagrams_markdown().rstrip() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_walkthrough_is_the_runnable_script() -> None:
    script = (ROOT / "docs" / "walkthrough.sh").read_text(encoding="utf-8")
    body = script.split("\n", 2)[2].rstrip()
    assert body in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_webhook_verification_snippet_accepts_what_the_service_signs() -> None:
    import time

    from app.domain.webhooks import sign

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(snippet, namespace)  # the README's code, exactly as a reader would paste it
    verified = namespace["verified"]
    body = b'{"seq":1}'
    timestamp = str(int(time.time()))
    headers = {"X-TIC-Timestamp": timestamp, "X-TIC-Signature": sign("s3cret", timestamp, body)}
    assert verified("s3cret", headers, body) is True  # type: ignore[operator]
    assert verified("other", headers, body) is False  # type: ignore[operator]
    assert verified("s3cret", headers, body + b" ") is False  # type: ignore[operator]


async def test_the_readme_log_verifier_accepts_a_real_proof_and_refuses_a_forged_one(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    from tests.api.helpers import make_world, submitted

    world = await make_world(client, auth)
    await submitted(client, world)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    snippet = next(
        block.split("```", 1)[0] for block in text.split("```python\n")[1:] if "verify_inclusion_proof" in block
    )
    namespace: dict[str, object] = {}
    exec(snippet, namespace)  # the README's code, exactly as a reader would paste it
    verify = namespace["verify_inclusion_proof"]
    vkey = (await client.get("/api/v1/log/key")).json()["verifier_key"]
    checkpoint = (await client.get("/api/v1/log/checkpoint")).text
    size = int(checkpoint.split("\n")[1])
    for seq in range(1, size + 1):
        proof = (await client.get(f"/api/v1/log/proof/inclusion?seq={seq}", headers=world.province)).json()
        assert verify(vkey, checkpoint, proof) is True, seq  # type: ignore[operator]
        forged = {**proof, "entry": proof["entry"].replace('"seq":', '"seq": ')}
        assert verify(vkey, checkpoint, forged) is False  # type: ignore[operator]
    with pytest.raises(InvalidSignature):  # the origin line changed under the signature
        verify(vkey, checkpoint.replace("tic.kjt", "tic-kjt", 1), proof)  # type: ignore[operator]
    unsigned = checkpoint.replace("\u2014 tic.kjt.henan.gov.cn/log ", "\u2014 someone.else/log ")
    assert verify(vkey, unsigned, proof) is False  # type: ignore[operator]
