"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing and proofs, §2.1.

The server's transparency log (``server.tlog``) and the tablet's witness (``mobile_app.core``)
both compute with this one module: the root of the first ``n`` leaves, the inclusion proof of
a leaf and the consistency proof between two tree sizes, and their verification.

Why written here rather than taken from ``pymerkle`` (7.0 is on PyPI and installable): pymerkle
keeps the tree in its own storage (memory or its own SQLite file), so its appends could not
commit or roll back with the event in our transaction on PostgreSQL, nor be read in commit
order from our tables; the tablet would need another dependency in its build for four
functions. The hashing is 200 lines of the RFC's own recursion, checked against the RFC 6962
reference vectors of the 8-leaf tree (``tests/shared/test_merkle.py``) and by property tests.

The tree is never held whole: every function reads complete, aligned subtrees through a
``SubtreeHash`` callback ``(level, index) -> hash of leaves [index*2**level, (index+1)*2**level)``.
Every range the RFC's recursion names decomposes into such subtrees, so a store of them (the
server's ``log_node`` table) answers any root or proof in O(log² n) reads, and
``needed_subtrees`` tells which before reading them, so a database serves a proof in one query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

SubtreeHash = Callable[[int, int], bytes]

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof that does not prove what it claims (wrong length, root or sizes)."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1): where the RFC splits a range."""
    return 1 << ((n - 1).bit_length() - 1)


def range_hash(subtree: SubtreeHash, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range the recursion names (``start`` aligned to its split)."""
    n = end - start
    if n <= 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0:  # a complete subtree
        level = n.bit_length() - 1
        return subtree(level, start >> level)
    k = _split(n)
    return node_hash(range_hash(subtree, start, start + k), range_hash(subtree, start + k, end))


def root(subtree: SubtreeHash, size: int) -> bytes:
    """The tree head of the first ``size`` leaves."""
    return range_hash(subtree, 0, size)


def inclusion_proof(subtree: SubtreeHash, index: int, size: int) -> list[bytes]:
    """PATH(m, D[0:n]) of RFC 9162 §2.1.3.1, leaf to root."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []

    def walk(m: int, start: int, end: int) -> None:
        n = end - start
        if n == 1:
            return
        k = _split(n)
        if m < k:
            walk(m, start, start + k)
            path.append(range_hash(subtree, start + k, end))
        else:
            walk(m - k, start + k, end)
            path.append(range_hash(subtree, start, start + k))

    walk(index, 0, size)
    return path


def consistency_proof(subtree: SubtreeHash, old: int, new: int) -> list[bytes]:
    """PROOF(m, D[0:n]) of RFC 9162 §2.1.4.1: empty for equal sizes or an empty old tree."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from {old} to {new}")
    if old == 0 or old == new:
        return []
    proof: list[bytes] = []

    def sub(m: int, start: int, end: int, complete: bool) -> None:
        n = end - start
        if m == n:
            if not complete:
                proof.append(range_hash(subtree, start, end))
            return
        k = _split(n)
        if m <= k:
            sub(m, start, start + k, complete)
            proof.append(range_hash(subtree, start + k, end))
        else:
            sub(m - k, start + k, end, False)
            proof.append(range_hash(subtree, start, start + k))

    sub(old, 0, new, True)
    return proof


def needed_subtrees(build: Callable[[SubtreeHash], object]) -> set[tuple[int, int]]:
    """Which subtrees ``build`` reads (the ranges never depend on the hashes), so a store can
    fetch them all at once before calling ``build`` again with the answers."""
    seen: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        seen.add((level, index))
        return EMPTY_ROOT

    build(record)
    return seen


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> None:
    """RFC 9162 §2.1.3.2; ``leaf`` is the leaf's hash. Raises ``ProofError`` unless it holds."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof too short")
    if r != expected_root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2. Raises ``ProofError`` unless the tree of ``old`` leaves with
    ``old_root`` is a prefix of the tree of ``new`` leaves with ``new_root``."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency between {old} and {new}")
    if old == new:
        if proof:
            raise ProofError("a proof between equal sizes is empty")
        if old_root != new_root:
            raise ProofError("same size, different roots")
        return
    if old == 0:
        if proof:
            raise ProofError("a proof from the empty tree is empty")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof too short")
    if fr != old_root:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("consistency proof does not lead to the new root")


class MemoryTree:
    """A whole tree in memory: the tablet's and the tests' store, and the reference the server's
    stored subtrees are checked against. Keeps every level, so appends cost O(1) amortised."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for data in leaves:
            self.append(data)

    @classmethod
    def of_hashes(cls, hashes: Iterable[bytes]) -> MemoryTree:
        tree = cls()
        for h in hashes:
            tree.append_hash(h)
        return tree

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, data: bytes) -> None:
        self.append_hash(leaf_hash(data))

    def append_hash(self, h: bytes) -> None:
        level = 0
        self.levels[0].append(h)
        while len(self.levels[level]) % 2 == 0:
            row = self.levels[level]
            if level + 1 == len(self.levels):
                self.levels.append([])
            self.levels[level + 1].append(node_hash(row[-2], row[-1]))
            level += 1

    def subtree(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    def root(self, size: int | None = None) -> bytes:
        return root(self.subtree, self.size if size is None else size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(self.subtree, index, self.size if size is None else size)

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        return consistency_proof(self.subtree, old, self.size if new is None else new)
