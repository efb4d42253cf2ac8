"""The feed as a verifiable log through the API (issue 14): checkpoints, proofs, the key, verify and the CLI."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.__main__ import main as cli
from app.domain import merkle
from app.domain.checkpoints import Verifier, verify_checkpoint
from tests.api.helpers import World, act, draft, make_world, problem, submitted
from tests.conftest import TokenFactory

LOG = "/api/v1/log"


@pytest.fixture
async def world(client: httpx.AsyncClient, auth: TokenFactory) -> World:
    world = await make_world(client, auth)
    await submitted(client, world)
    return world


async def _key(client: httpx.AsyncClient) -> Verifier:
    response = await client.get(f"{LOG}/key")  # public: no token
    assert response.status_code == 200, response.text
    body = response.json()
    verifier = Verifier.parse(body["verifier_key"])
    assert (body["origin"], body["algorithm"]) == ("tic.kjt.henan.gov.cn/log", "ed25519")
    assert base64.b64decode(body["public_key"]) == verifier.public
    return verifier


async def _checkpoint(client: httpx.AsyncClient) -> str:
    response = await client.get(f"{LOG}/checkpoint")  # public: no token
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def _feed(client: httpx.AsyncClient, world: World) -> list[dict[str, Any]]:
    return list((await client.get("/api/v1/events?limit=1000", headers=world.province)).json()["items"])


async def _entry(client: httpx.AsyncClient, world: World, event: dict[str, Any]) -> bytes:
    """What a leaf commits to: the canonical JSON whose SHA-256 is the event's chain `hash` (so whoever holds the
    event from the feed can tell the entry is its own), with the event's fields."""
    proof = (await client.get(f"{LOG}/proof/inclusion", params={"seq": event["seq"]}, headers=world.province)).json()
    entry = proof["entry"].encode()
    assert hashlib.sha256(entry).hexdigest() == event["hash"]
    fields = json.loads(entry)
    assert (fields["seq"], fields["id"], fields["type"], fields["prev_hash"]) == (
        event["seq"],
        event["id"],
        event["type"],
        event["prev_hash"],
    )
    return entry


async def test_the_checkpoint_is_signed_and_covers_the_whole_feed(client: httpx.AsyncClient, world: World) -> None:
    verifier = await _key(client)
    checkpoint = verify_checkpoint(await _checkpoint(client), verifier)
    events = await _feed(client, world)
    assert checkpoint.size == len(events) > 0
    assert checkpoint.root == merkle.root_of([merkle.leaf_hash(await _entry(client, world, e)) for e in events])


async def test_every_event_has_an_inclusion_proof_that_a_tampered_event_fails(
    client: httpx.AsyncClient, world: World
) -> None:
    checkpoint = verify_checkpoint(await _checkpoint(client), await _key(client))
    for event in await _feed(client, world):
        response = await client.get(f"{LOG}/proof/inclusion", params={"seq": event["seq"]}, headers=world.province)
        assert response.status_code == 200, response.text
        proof = response.json()
        assert hashlib.sha256(proof["entry"].encode()).hexdigest() == event["hash"]
        assert (proof["tree_size"], base64.b64decode(proof["root"])) == (checkpoint.size, checkpoint.root)
        hashes = [base64.b64decode(h) for h in proof["hashes"]]
        leaf = merkle.leaf_hash(proof["entry"].encode())
        assert merkle.verify_inclusion(proof["leaf_index"], checkpoint.size, leaf, hashes, checkpoint.root)
        forged = merkle.leaf_hash(proof["entry"].replace(event["type"], "center.revoked").encode())
        assert not merkle.verify_inclusion(proof["leaf_index"], checkpoint.size, forged, hashes, checkpoint.root)


async def test_a_later_checkpoint_is_consistent_with_an_earlier_one(
    client: httpx.AsyncClient, world: World, auth: TokenFactory
) -> None:
    verifier = await _key(client)
    old = verify_checkpoint(await _checkpoint(client), verifier)
    application = await draft(client, world, proposed_name="另一中心")
    await act(client, application["id"], "withdraw", world.applicant)
    new = verify_checkpoint(await _checkpoint(client), verifier)
    assert new.size > old.size
    response = await client.get(f"{LOG}/proof/consistency", params={"from": old.size, "to": new.size})
    assert response.status_code == 200, response.text
    proof = response.json()
    assert (proof["first"], proof["second"]) == (old.size, new.size)
    assert base64.b64decode(proof["first_root"]) == old.root
    hashes = [base64.b64decode(h) for h in proof["hashes"]]
    assert merkle.verify_consistency(old.size, new.size, hashes, old.root, new.root)
    # The old tree's proof to itself is empty, and an older proof still verifies against an older tree size.
    same = (await client.get(f"{LOG}/proof/consistency", params={"from": old.size, "to": old.size})).json()
    assert same["hashes"] == []
    seq1 = (
        await client.get(f"{LOG}/proof/inclusion", params={"seq": 1, "tree_size": old.size}, headers=world.province)
    ).json()
    assert base64.b64decode(seq1["root"]) == old.root


async def test_proofs_of_what_the_log_does_not_hold_are_refused_with_the_field(
    client: httpx.AsyncClient, world: World
) -> None:
    size = verify_checkpoint(await _checkpoint(client), await _key(client)).size
    cases = [
        ("inclusion", {"seq": size + 1}, "seq"),
        ("inclusion", {"seq": 1, "tree_size": size + 1}, "tree_size"),
        ("consistency", {"from": size + 1, "to": size}, "from"),
        ("consistency", {"from": 1, "to": size + 5}, "to"),
        ("consistency", {"from": 0}, "from"),
        ("inclusion", {"seq": 2**63}, "seq"),
    ]
    for kind, params, field in cases:
        response = await client.get(f"{LOG}/proof/{kind}", params=params, headers=world.province)
        body = problem(response, 422, "validation-failed")
        assert [e["loc"] for e in body["errors"]] == [["query", field]], (kind, params, body)


async def test_inclusion_proofs_carry_events_and_are_for_feed_readers_only(
    client: httpx.AsyncClient, world: World
) -> None:
    for headers in (world.applicant, world.supervisor):
        response = await client.get(f"{LOG}/proof/inclusion", params={"seq": 1}, headers=headers)
        problem(response, 404, "not-found")
    assert (await client.get(f"{LOG}/proof/inclusion", params={"seq": 1})).status_code == 401


async def test_verify_finds_an_event_or_a_tree_node_edited_behind_the_triggers(
    client: httpx.AsyncClient, connection: AsyncConnection, world: World
) -> None:
    before = (await client.get("/api/v1/events/verify", headers=world.province)).json()
    assert (before["ok"], before["tree_ok"]) == (True, True)
    checkpoint = verify_checkpoint(await _checkpoint(client), await _key(client))
    assert before["tree_root"] == base64.b64encode(checkpoint.root).decode()

    # A superuser turns the append-only trigger off and rewrites one stored node of the tree.
    await connection.execute(text("ALTER TABLE log_nodes DISABLE TRIGGER log_nodes_append_only"))
    await connection.execute(text("UPDATE log_nodes SET hash = sha256('forged'::bytea) WHERE level = 0 AND idx = 0"))
    after = (await client.get("/api/v1/events/verify", headers=world.province)).json()
    assert (after["ok"], after["tree_ok"]) == (False, False)


async def test_verify_finds_an_event_edited_behind_the_trigger(
    client: httpx.AsyncClient, connection: AsyncConnection, world: World
) -> None:
    await _checkpoint(client)  # the tree now holds every event
    await connection.execute(text("ALTER TABLE events DISABLE TRIGGER events_append_only"))
    await connection.execute(text("UPDATE events SET data = '{\"forged\": true}' WHERE seq = 2"))
    after = (await client.get("/api/v1/events/verify", headers=world.province)).json()
    assert (after["ok"], after["tree_ok"], after["first_bad_seq"]) == (False, False, 2)


async def test_the_cli_verifies_proofs_offline_and_refuses_forgeries(
    client: httpx.AsyncClient, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = str(await _key(client))
    old_note = await _checkpoint(client)
    application = await draft(client, world, proposed_name="再一个中心")
    await act(client, application["id"], "withdraw", world.applicant)
    note = await _checkpoint(client)
    size = int(note.split("\n")[1])
    inclusion = (await client.get(f"{LOG}/proof/inclusion", params={"seq": 2}, headers=world.province)).json()
    consistency = (
        await client.get(f"{LOG}/proof/consistency", params={"from": int(old_note.split("\n")[1]), "to": size})
    ).json()
    files = {
        "old": old_note,
        "new": note,
        "inclusion.json": json.dumps(inclusion),
        "consistency.json": json.dumps(consistency),
        "forged.json": json.dumps({**inclusion, "entry": inclusion["entry"].replace('"seq":2', '"seq":3')}),
        "tampered": note.replace(f"\n{size}\n", f"\n{size + 1}\n"),
    }
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")

    def run(*args: str) -> tuple[int, str]:
        code = cli(["log", *args, "--key", key])
        out = capsys.readouterr()
        return code, out.out + out.err

    code, said = run(
        "verify-inclusion", "--checkpoint", str(tmp_path / "new"), "--proof", str(tmp_path / "inclusion.json")
    )
    assert (code, said.split(":")[0]) == (0, "ok"), said
    code, said = run(
        "verify-consistency",
        "--old",
        str(tmp_path / "old"),
        "--new",
        str(tmp_path / "new"),
        "--proof",
        str(tmp_path / "consistency.json"),
    )
    assert (code, said.split(":")[0]) == (0, "ok"), said
    code, said = run(
        "verify-inclusion", "--checkpoint", str(tmp_path / "new"), "--proof", str(tmp_path / "forged.json")
    )
    assert (code, said.strip()) == (1, "FAILED: the proof does not lead from this entry to the checkpoint's root")
    code, said = run(
        "verify-inclusion", "--checkpoint", str(tmp_path / "tampered"), "--proof", str(tmp_path / "inclusion.json")
    )
    assert code == 1
    assert "invalid signature" in said
    code, said = run(
        "verify-consistency",
        "--old",
        str(tmp_path / "new"),
        "--new",
        str(tmp_path / "old"),
        "--proof",
        str(tmp_path / "consistency.json"),
    )
    assert code == 1
