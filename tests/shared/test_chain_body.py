"""``ChainEvent.body()`` reads the fields without ``dataclasses.asdict``: the same mapping, so
the same canonical bytes and the same hash, for any event (hypothesis), and the hashes of the
chains the rules build stay what they were."""

from __future__ import annotations

from dataclasses import asdict

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.chain import ChainEvent, canonical_json, event_hash

TEXT = st.text(max_size=12)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)
EVENTS = st.builds(
    ChainEvent,
    id=TEXT,
    hazard_id=TEXT,
    seq=st.integers(1, 10_000),
    type=TEXT,
    actor_id=TEXT,
    actor_role=TEXT,
    at=TEXT,
    payload=st.dictionaries(TEXT, JSON, max_size=6),
    prev_hash=TEXT,
    hash=TEXT,
    device_time=st.none() | TEXT,
    next_owner=st.none() | st.dictionaries(TEXT, JSON, max_size=3),
    next_deadline=st.none() | TEXT,
)


def _old_body(ev: ChainEvent) -> dict:
    data = asdict(ev)
    data.pop("hash")
    return data


@settings(max_examples=300, deadline=None)
@given(EVENTS)
def test_body_is_the_asdict_body(ev: ChainEvent):
    body = ev.body()
    assert body == _old_body(ev)
    assert list(body) == list(_old_body(ev))  # the same keys in the same order
    assert canonical_json(body) == canonical_json(_old_body(ev))
    assert event_hash(body) == event_hash(_old_body(ev))
    assert ev.sealed().hash == event_hash(_old_body(ev))


def test_a_known_event_keeps_its_hash():
    """A hash computed before the change (asdict), pinned: stored chains still verify."""
    ev = ChainEvent(
        id="e1", hazard_id="h1", seq=1, type="reported", actor_id="u1", actor_role="inspector",
        at="2026-03-01T00:00:00.000000Z", payload={"title": "通道堵塞", "photos": ["ab" * 32]},
        prev_hash="0" * 64, next_owner={"role": "officer"},
    )  # fmt: skip
    assert ev.sealed().hash == event_hash(_old_body(ev))
    assert ev.sealed().hash == "e77e749965b38faddd7383e811bfa05dc4ef3752f4d8fe20d07720592dfa1c40"
