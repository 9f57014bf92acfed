"""shared.merkle against the RFC 6962/9162 reference vectors (the 8-leaf tree of the
Certificate Transparency reference implementations) and hypothesis properties: every proof the
tree gives verifies, and any changed leaf, root, size or proof step fails."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    ProofError,
    leaf_hash,
    needed_subtrees,
    root,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (leaf index, tree size, path)
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

TREE = MemoryTree(LEAVES)


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    assert MemoryTree().root().hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert MemoryTree().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_reference_roots(size: int) -> None:
    assert TREE.root(size).hex() == ROOTS[size - 1]
    assert MemoryTree(LEAVES[:size]).root().hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_reference_inclusion_proofs(index: int, size: int, path: list[str]) -> None:
    proof = TREE.inclusion_proof(index, size)
    assert [p.hex() for p in proof] == path
    verify_inclusion(leaf_hash(LEAVES[index]), index, size, proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_reference_consistency_proofs(old: int, new: int, path: list[str]) -> None:
    proof = TREE.consistency_proof(old, new)
    assert [p.hex() for p in proof] == path
    verify_consistency(
        old, new, bytes.fromhex(ROOTS[old - 1]), bytes.fromhex(ROOTS[new - 1]), proof
    )


def test_a_proof_needs_few_subtrees() -> None:
    """What the server fetches in one query for a proof in a tree of a million leaves."""
    keys = needed_subtrees(lambda s: root(s, 1_000_000))
    assert len(keys) == bin(1_000_000).count("1")


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[MemoryTree, int, int]:
    leaves = draw(st.lists(st.binary(max_size=8), min_size=1, max_size=70))
    size = draw(st.integers(1, len(leaves)))
    return MemoryTree(leaves), draw(st.integers(0, size - 1)), size


@settings(max_examples=150, deadline=None)
@given(tree_and_index(), st.data())
def test_every_inclusion_proof_verifies_and_tampering_fails(
    case: tuple[MemoryTree, int, int], data: st.DataObject
) -> None:
    tree, index, size = case
    proof = tree.inclusion_proof(index, size)
    head = tree.root(size)
    leaf = tree.subtree(0, index)
    verify_inclusion(leaf, index, size, proof, head)
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(b"forged"), index, size, proof, head)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, leaf_hash(b"another root"))
    if proof:
        at = data.draw(st.integers(0, len(proof) - 1))
        bent = [*proof[:at], leaf_hash(b"bent"), *proof[at + 1 :]]
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, bent, head)
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, proof[:-1], head)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70), st.data())
def test_every_consistency_proof_verifies_and_a_rewritten_history_fails(
    leaves: list[bytes], data: st.DataObject
) -> None:
    tree = MemoryTree(leaves)
    new = data.draw(st.integers(1, tree.size))
    old = data.draw(st.integers(1, new))
    proof = tree.consistency_proof(old, new)
    verify_consistency(old, new, tree.root(old), tree.root(new), proof)
    # the same sizes over a history with one old leaf changed: the old head no longer follows
    at = data.draw(st.integers(0, old - 1))
    forged = MemoryTree([*leaves[:at], leaves[at] + b"!", *leaves[at + 1 :]])
    with pytest.raises(ProofError):
        verify_consistency(
            old, new, tree.root(old), forged.root(new), forged.consistency_proof(old, new)
        )
    with pytest.raises(ProofError):
        verify_consistency(old, new, forged.root(old), tree.root(new), proof)
