"""The feed's Merkle tree against RFC 9162 and transparency-dev/merkle's published vectors (issue 14, item 2)."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any

import pytest

from app.domain import merkle

VECTORS = Path(__file__).parents[2] / "vectors" / "transparency-dev-merkle"

# transparency-dev/merkle testonly/constants.go: leaf inputs and the roots of the trees over their prefixes (RFC 6962).
LEAF_INPUTS = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                           "606162636465666768696a6b6c6d6e6f")]  # fmt: skip
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _cases(kind: str) -> list[Any]:
    files = sorted((VECTORS / kind).rglob("*.json"))
    assert len(files) > 50, f"the {kind} vectors are missing"
    return [pytest.param(json.loads(f.read_text()), id=str(f.relative_to(VECTORS))) for f in files]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_the_rfc_reference_roots(size: int) -> None:
    leaves = [merkle.leaf_hash(entry) for entry in LEAF_INPUTS[:size]]
    assert merkle.root_of(leaves).hex() == ROOTS[size]


@pytest.mark.parametrize("case", _cases("inclusion"))
def test_inclusion_vectors(case: dict[str, Any]) -> None:
    proof = [_b64(p) for p in case["proof"] or []]
    ok = merkle.verify_inclusion(case["leafIdx"], case["treeSize"], _b64(case["leafHash"]), proof, _b64(case["root"]))
    assert ok is not case["wantErr"], case["desc"]


@pytest.mark.parametrize("case", _cases("consistency"))
def test_consistency_vectors(case: dict[str, Any]) -> None:
    proof = [_b64(p) for p in case["proof"] or []]
    ok = merkle.verify_consistency(case["size1"], case["size2"], proof, _b64(case["root1"]), _b64(case["root2"]))
    assert ok is not case["wantErr"], case["desc"]


def _stored(leaves: list[bytes]) -> dict[merkle.Node, bytes]:
    """Every perfect subtree of the tree, built the way the sequencer builds it: appended in uneven batches."""
    stored: dict[merkle.Node, bytes] = {}
    size, rng = 0, random.Random(len(leaves))
    while size < len(leaves):
        batch = leaves[size : size + rng.randint(1, 9)]
        frontier = {node: stored[node] for node in merkle.frontier_nodes(size)}
        stored.update(merkle.new_nodes(size, frontier, batch))
        size += len(batch)
    return stored


# The trees below are sized to cross the powers of two up to 64 (six levels: every left/right, perfect/imperfect and
# frontier case of the proofs): larger trees repeat the same paths and only cost time, which matters in `make
# mutation`, where each run of these tests goes through mutmut's trampoline for every hash.
SIZES = 100


def _prefix_roots(leaves: list[bytes]) -> list[bytes]:
    """The reference root of every prefix of `leaves`, computed once per test rather than once per proof."""
    return [merkle.root_of(leaves[:size]) for size in range(len(leaves) + 1)]


def test_stored_nodes_built_in_batches_give_the_reference_root_at_every_size() -> None:
    leaves = [merkle.leaf_hash(f"event {i}".encode()) for i in range(SIZES)]
    stored = _stored(leaves)
    assert len(stored) == 2 * len(leaves) - bin(len(leaves)).count("1")  # every perfect subtree, once
    for size, root in enumerate(_prefix_roots(leaves)):
        assert merkle.root_from(merkle.plan_root(size), stored) == root, size


def test_every_inclusion_proof_verifies_and_a_tampered_entry_fails() -> None:
    leaves = [merkle.leaf_hash(f"event {i}".encode()) for i in range(SIZES)]
    stored = _stored(leaves)
    roots = _prefix_roots(leaves)
    for size in (1, 2, 3, 7, 8, 9, 31, 32, 33, 63, 64, 65, SIZES):
        root = roots[size]
        for index in range(size):
            plan = merkle.plan_inclusion(index, size)
            assert len(plan.nodes) <= 2 * size.bit_length()  # O(log n) stored hashes
            proof = plan.assemble(stored)
            assert merkle.verify_inclusion(index, size, leaves[index], proof, root), (index, size)
            if index % 7 == 0 or index == size - 1:
                tampered = merkle.leaf_hash(f"event {index}!".encode())
                assert not merkle.verify_inclusion(index, size, tampered, proof, root)
                assert not merkle.verify_inclusion(index, size, leaves[index], proof, roots[size - 1])


def test_consistency_proofs_between_random_sizes_verify() -> None:
    leaves = [merkle.leaf_hash(f"event {i}".encode()) for i in range(SIZES)]
    stored = _stored(leaves)
    roots = _prefix_roots(leaves)
    rng = random.Random(9162)
    edges = [(1, SIZES), (64, SIZES), (SIZES - 1, SIZES), (32, 64), (63, 64), (64, 65)]
    pairs = [(rng.randint(1, SIZES), rng.randint(1, SIZES)) for _ in range(150)] + edges
    for a, b in pairs:
        size1, size2 = min(a, b), max(a, b)
        root1, root2 = roots[size1], roots[size2]
        proof = merkle.plan_consistency(size1, size2).assemble(stored)
        assert merkle.verify_consistency(size1, size2, proof, root1, root2), (size1, size2)
        if size1 < size2:
            other = merkle.root_of([*leaves[: size1 - 1], merkle.leaf_hash(b"rewritten")])
            assert not merkle.verify_consistency(size1, size2, proof, other, root2)


def test_plans_refuse_impossible_requests() -> None:
    with pytest.raises(ValueError, match="not in a tree"):
        merkle.plan_inclusion(5, 5)
    with pytest.raises(ValueError, match="no consistency proof"):
        merkle.plan_consistency(0, 5)
    with pytest.raises(ValueError, match="no consistency proof"):
        merkle.plan_consistency(6, 5)
    assert merkle.plan_consistency(4, 4).assemble({}) == []
    with pytest.raises(ValueError, match="not a subtree"):
        merkle.nodes_of_range(1, 4)
