"""The feed's Merkle tree, as RFC 9162 §2.1 defines it (the Certificate Transparency v2 tree), in pure functions.

- A leaf hash is SHA-256(0x00 ‖ entry), an interior node SHA-256(0x01 ‖ left ‖ right); the tree over n entries splits
  at k, the largest power of two below n (a left-balanced tree), and the empty tree's hash is SHA-256 of nothing.
- Storage keeps the hash of every *perfect* subtree: node (level, index) covers entries [index·2^level,
  (index+1)·2^level). Any hash a proof needs is the hash of a range that splits into at most log2(n) such nodes, so a
  proof costs O(log n) stored hashes. The functions here say which nodes (`plan_*`) and how to fold them (`fold`);
  the service reads those nodes in one query.
- `verify_inclusion` and `verify_consistency` are RFC 9162 §2.1.3.2 and §2.1.4.2, checked against
  transparency-dev/merkle's published vectors (tests/vectors/).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

Node = tuple[int, int]  # (level, index): the perfect subtree over entries [index << level, (index + 1) << level)
Range = tuple[int, int]  # [start, end) of entries

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """k, the largest power of two smaller than n (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) from leaf hashes, by the RFC's recursive definition (the reference the stored tree must agree with)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


def nodes_of_range(start: int, end: int) -> list[Node]:
    """The perfect subtrees, largest first, whose fold is MTH(D[start:end]).

    Holds for every range a proof asks for: `start` is a multiple of the largest power of two not above end - start,
    so the left-balanced tree over the range is its binary decomposition, left to right."""
    if not 0 <= start < end:
        raise ValueError(f"empty or negative range [{start}, {end})")
    nodes: list[Node] = []
    position = start
    while position < end:
        level = (end - position).bit_length() - 1
        while position % (1 << level):
            level -= 1
        nodes.append((level, position >> level))
        position += 1 << level
    sizes = [level for level, _ in nodes]
    if sizes != sorted(sizes, reverse=True) or len(set(sizes)) != len(sizes):
        raise ValueError(f"[{start}, {end}) is not a subtree of a left-balanced tree")
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its perfect subtrees' hashes, largest (leftmost) first: fold from the right."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _inclusion_ranges(index: int, start: int, end: int) -> list[Range]:
    """PATH(m, D[start:end]) (RFC 9162 §2.1.3.1) as the ranges whose hashes it lists, leaf to root."""
    path: list[Range] = []
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start = start + k
    path.reverse()
    return path


def _consistency_ranges(size1: int, start: int, end: int, complete: bool) -> list[Range]:
    """SUBPROOF(m, D[start:end], b) (RFC 9162 §2.1.4.1) as ranges, in proof order."""
    m = size1
    if m == end - start:
        return [] if complete else [(start, end)]
    k = _split(end - start)
    if m <= k:
        return [*_consistency_ranges(m, start, start + k, complete), (start + k, end)]
    return [*_consistency_ranges(m - k, start + k, end, False), (start, start + k)]


@dataclass(frozen=True)
class ProofPlan:
    """Which stored nodes a proof needs, and how they group into the proof's hashes."""

    ranges: tuple[Range, ...]

    @property
    def nodes(self) -> set[Node]:
        return {node for start, end in self.ranges for node in nodes_of_range(start, end)}

    def assemble(self, stored: Mapping[Node, bytes]) -> list[bytes]:
        return [fold([stored[node] for node in nodes_of_range(start, end)]) for start, end in self.ranges]


def plan_inclusion(index: int, tree_size: int) -> ProofPlan:
    if not 0 <= index < tree_size:
        raise ValueError(f"entry {index} is not in a tree of size {tree_size}")
    return ProofPlan(tuple(_inclusion_ranges(index, 0, tree_size)))


def plan_consistency(size1: int, size2: int) -> ProofPlan:
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    if size1 == size2:
        return ProofPlan(())
    return ProofPlan(tuple(_consistency_ranges(size1, 0, size2, True)))


def plan_root(tree_size: int) -> ProofPlan:
    return ProofPlan(((0, tree_size),)) if tree_size else ProofPlan(())


def root_from(plan: ProofPlan, stored: Mapping[Node, bytes]) -> bytes:
    hashes = plan.assemble(stored)
    return hashes[0] if hashes else EMPTY_ROOT


def _digests(*values: bytes) -> bool:
    return all(len(value) == hashlib.sha256().digest_size for value in values)


def verify_inclusion(index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does `proof` show the entry hashed `leaf` at `index` in the tree of `tree_size` / `root`?"""
    if not 0 <= index < tree_size or not _digests(leaf, root, *proof):
        return False
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of `size1` / `root1` a prefix of the tree of `size2` / `root2`?

    As transparency-dev/merkle: a proof from the empty tree is meaningless (refused), equal sizes need an empty proof
    and equal roots."""
    if not 0 < size1 <= size2:
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if not proof or not _digests(root1, root2, *proof):
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the old root is itself the first node of the path
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == root1 and sr == root2 and sn == 0


def new_nodes(size: int, frontier: Mapping[Node, bytes], leaves: Iterable[bytes]) -> dict[Node, bytes]:
    """The perfect-subtree nodes that appending `leaves` to a tree of `size` entries completes.

    `frontier` holds the nodes of the current tree's right edge (`nodes_of_range(0, size)`), the only stored hashes a
    new node can combine with. Returns every new node, leaves included, keyed by (level, index)."""
    known = dict(frontier)
    created: dict[Node, bytes] = {}
    index = size
    for digest in leaves:
        level, position, current = 0, index, digest
        created[(0, position)] = current
        known[(0, position)] = current
        while position & 1:  # a right child completes its parent
            left = known[(level, position - 1)]
            level, position = level + 1, position >> 1
            current = node_hash(left, current)
            created[(level, position)] = current
            known[(level, position)] = current
        index += 1
    return created


def frontier_nodes(size: int) -> list[Node]:
    """The right edge of a tree of `size` entries: the nodes `new_nodes` may need."""
    return nodes_of_range(0, size) if size else []
