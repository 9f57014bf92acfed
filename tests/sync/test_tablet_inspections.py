"""Inspections on the tablet's core (no Kivy): answers written at each tap, submit locks the
draft and shows its findings' hazards at once (pending), other events can be added to them
offline, and after a sync they are the server's hazards; an inspection the server refuses
drops its provisional hazards and opens again to be put right."""

from __future__ import annotations

import json

import pytest
from tablets import MALL, photo
from tablets import sha as sha_of

from mobile_app.core.chains import local_chain
from mobile_app.core.drafts import Drafts
from mobile_app.core.outbox import LocalRefusal, actor_of
from mobile_app.core.store import LocalStore
from shared.checklist import Template
from shared.clock import Clock, SystemClock, parse_iso
from shared.findings import finding_hazard_id

TEMPLATE = "crowded_venue"
PROFILE = "mall"  # the mall's own profile (shared.site_checklists)
REASON = "时间所限，本次未检查，下次补查"


@pytest.fixture
def server(cli_server):
    """The server as ``make run`` sets it up (its templates imported by ``db upgrade`` in
    another process): importing them here, beside an in-process server, once hid that they
    never reached a tablet."""
    return cli_server


@pytest.fixture
def clock() -> Clock:
    """Tablets on the real clock, like the server they talk to."""
    return SystemClock()


def _template(store: LocalStore, key: str = f"{TEMPLATE}:1") -> Template:
    row = store.read("SELECT data FROM template WHERE id = ?", [key])[0]
    return Template.model_validate(json.loads(row["data"])["content"])


def _fail_two(drafts: Drafts, draft_id: str, template: Template) -> list[str]:
    """Fail two yes/no items that need no photo, pass one; returns the failed ids."""
    yes_no = [
        i
        for i in template.items()
        if i.answer == "yes_no" and not i.photo_required and i.applies_to(None)
    ]
    failed = []
    for item in yes_no[:2]:
        drafts.save_answer(draft_id, item.id, value="no" if item.pass_when == "yes" else "yes")
        failed.append(item.id)
    drafts.save_answer(draft_id, yes_no[2].id, value=yes_no[2].pass_when, note="现场核实")
    return failed


def _rest_not_checked(drafts: Drafts, draft_id: str, template: Template) -> int:
    """未检查 with a reason for every item left: no inspection goes with items unanswered."""
    return drafts.mark_unanswered(draft_id, template, "unchecked", REASON)


def _sign(tablet, drafts: Drafts, draft_id: str) -> None:
    sig = {w: tablet.outbox.add_photo(photo(w))["sha256"] for w in ("inspector", "rep")}
    drafts.save_fields(
        draft_id,
        signatures={"inspector": sig["inspector"], "representative": sig["rep"]},
        representative_name="王店长",
    )


def test_a_tablet_inspects_on_a_server_set_up_as_make_run_does(server, tablets, clock):
    """The whole path a district starts with: ``db upgrade``, ``demo``, ``serve``; an
    inspector's tablet gets every checklist the server holds, inspects a demo site with a
    failed item, and the server shows the hazard it found."""
    t = tablets(server.url, "inspector")
    assert t.sync().ok
    with server.login("officer") as officer:
        listed = officer.get("/checklists", params={"all": "true"}).json()["items"]
    on_server = sorted(f"{c['id']}:{c['version']}" for c in listed)
    on_tablet = sorted(r["id"] for r in t.store.read("SELECT id FROM template"))
    from server.checklists.service import DEFAULT_ROOT
    from shared.checklist import load_all

    in_repo = sorted(f"{tid}:{v}" for tid, v in load_all(DEFAULT_ROOT))
    assert on_server == in_repo and on_tablet == on_server  # every version the README imports
    for key in on_tablet:  # each one complete enough to inspect with
        assert list(_template(t.store, key).items())

    drafts = Drafts(t.store, clock=clock)
    template = _template(t.store)
    draft_id = drafts.open(MALL, TEMPLATE, 1, PROFILE)
    failed = _fail_two(drafts, draft_id, template)[:1]
    for item_id in _fail_two(drafts, draft_id, template)[1:]:  # keep one failure only
        item = template.item(item_id)
        drafts.save_answer(draft_id, item_id, value=item.pass_when)
    _rest_not_checked(drafts, draft_id, template)
    _sign(t, drafts, draft_id)
    assert drafts.submit(draft_id, template, {})["findings"] == 1
    result = t.sync()
    assert result.ok and result.rejected == 0 and result.pushed >= 1

    hazard_id = finding_hazard_id(draft_id, failed[0])
    with server.login("officer") as officer:
        got = officer.get(f"/inspections/{draft_id}")
        assert got.status_code == 200, got.text
        assert [h["id"] for h in got.json()["hazards"]] == [hazard_id]
        detail = officer.get(f"/hazards/{hazard_id}")
        assert detail.status_code == 200, detail.text
    hazard = detail.json()
    assert hazard["site_id"] == MALL and hazard["state"] == "reported" and hazard["chain_ok"]
    assert [e["type"] for e in hazard["events"]] == ["reported"]
    assert t.chain(hazard_id)[0].id == hazard_id  # the tablet holds the server's chain


def test_submitted_inspection_hazards_are_pending_then_the_servers(server, tablets, clock):
    t = tablets(server.url, "inspector")
    t.sync()  # sites, templates, tasks
    drafts = Drafts(t.store, clock=clock)
    template = _template(t.store)
    draft_id = drafts.open(MALL, TEMPLATE, 1, PROFILE)
    assert drafts.open(MALL, TEMPLATE, 1, PROFILE) == draft_id  # the same draft resumes
    failed = _fail_two(drafts, draft_id, template)

    # three items answered of a hundred: refused before anything is queued, naming the rest
    with pytest.raises(LocalRefusal) as refused:
        drafts.submit(draft_id, template, {})
    left = drafts.completion(drafts.get(draft_id), template).unanswered
    assert refused.value.refusal.code == "inspection_incomplete"
    assert set(refused.value.refusal.fields) == set(left) and len(left) > 80
    assert f"还有 {len(left)} 项未作答" in refused.value.refusal.zh
    assert not t.store.read("SELECT op_id FROM outbox")
    with pytest.raises(LocalRefusal) as refused:
        drafts.mark_unanswered(draft_id, template, "unchecked", "  ")
    assert refused.value.refusal.code == "reason_required"
    assert _rest_not_checked(drafts, draft_id, template) == len(left)
    assert drafts.completion(drafts.get(draft_id), template).complete

    with pytest.raises(LocalRefusal) as refused:
        drafts.submit(draft_id, template, {})
    assert refused.value.refusal.code == "signatures_required"
    _sign(t, drafts, draft_id)
    texts = {failed[0]: "安全出口被货架堵住（检查员补充）"}
    drafts.save_fields(draft_id, finding_texts=texts)
    done = drafts.submit(draft_id, template, {})
    assert done["findings"] == 2

    # locked at once; its hazards are on the tablet, pending, before any network
    with pytest.raises(LocalRefusal):
        drafts.save_answer(draft_id, failed[0], value="yes")
    hazard_ids = [finding_hazard_id(draft_id, i) for i in failed]
    rows = {r["id"]: r for r in t.store.read("SELECT * FROM hazard")}
    for hid in hazard_ids:
        assert rows[hid]["confirmed_count"] == 0 and rows[hid]["state"] == "reported"
    assert json.loads(rows[hazard_ids[0]]["view"])["description"].startswith("安全出口被货架堵住")

    # an inspector's note on a hazard the server has not seen yet
    t.outbox.append_event(hazard_ids[1], "note", {"text": "店长称今日整改"})
    chain = local_chain(t.store.reader(), hazard_ids[1], actor_of(t.store.reader()))
    assert [ev.type for _, ev in chain.pending] == ["reported", "note"]

    result = t.sync()
    assert result.ok and result.rejected == 0
    # each signature's receipt: the server's time, readable like every other time
    receipts = [b["receipt_at"] for b in t.store.read("SELECT receipt_at FROM blob")]
    assert len(receipts) == 2 and all(parse_iso(r).year == 2026 for r in receipts)
    for hid in hazard_ids:
        chain = local_chain(t.store.reader(), hid, actor_of(t.store.reader()))
        assert chain.pending == [] and chain.confirmed[0].id == hid
    assert [e.type for e in t.chain(hazard_ids[1])] == ["reported", "note"]
    assert t.chain(hazard_ids[0])[0].payload["description"].startswith("安全出口被货架堵住")

    with server.login("officer") as officer:
        got = officer.get(f"/inspections/{draft_id}").json()
    assert got["signatures"]["representative_name"] == "王店长"
    assert set(got["item_notes"].values()) == {"现场核实", REASON}
    assert got["completion"]["unchecked"] == len(left) and got["completion"]["unanswered"] == []
    assert got["completion"]["rate"] == round(3 / got["completion"]["applicable"], 4)
    # the inspection and the tasks come down with the sync (not in the change feed)
    assert t.store.read("SELECT id FROM inspection WHERE id = ?", [draft_id])


def test_a_refused_inspection_drops_its_hazards_and_opens_again(server, tablets, clock):
    t = tablets(server.url, "inspector")
    t.sync()
    drafts = Drafts(t.store, clock=clock)
    template = _template(t.store)
    draft_id = drafts.open(MALL, TEMPLATE, 1, PROFILE)
    failed = _fail_two(drafts, draft_id, template)
    _sign(t, drafts, draft_id)
    # an answer the server refuses: a choice value the item does not have, typed on an old
    # app build (written straight into the store: the screens only offer valid ones)
    bad = next(i for i in template.items() if i.answer == "number" and i.applies_to(None))
    t.store.write(
        lambda db: db.execute(
            "INSERT INTO answer (draft_id, item_id, value, updated_at) VALUES (?, ?, ?, ?)",
            [draft_id, bad.id, json.dumps("many"), "2026-03-02T01:00:00Z"],
        )
    )
    with pytest.raises(LocalRefusal) as refused:
        drafts.submit(draft_id, template, {})
    assert refused.value.refusal.code == "invalid_answer"  # caught on the tablet first

    # the server refuses what the tablet could not know: the site left the inspector's scope
    t.store.write(lambda db: db.execute("DELETE FROM answer WHERE item_id = ?", [bad.id]))
    _rest_not_checked(drafts, draft_id, template)
    payload_site = "00000000-0000-4000-8000-000000000000"
    t.store.write(
        lambda db: db.execute("UPDATE draft SET site_id = ? WHERE id = ?", [payload_site, draft_id])
    )
    drafts.submit(draft_id, template, {})
    assert len(t.store.read("SELECT id FROM hazard")) >= 2
    result = t.sync()
    assert result.rejected == 1
    assert drafts.get(draft_id)["status"] == "rejected"
    for item_id in failed:
        assert not t.store.read(
            "SELECT id FROM hazard WHERE id = ?", [finding_hazard_id(draft_id, item_id)]
        )

    # put right and submitted again: accepted, its hazards confirmed
    t.store.write(
        lambda db: db.execute("UPDATE draft SET site_id = ? WHERE id = ?", [MALL, draft_id])
    )
    drafts.save_answer(
        draft_id, failed[0], value=drafts.get(draft_id)["answers"][failed[0]]["value"]
    )
    drafts.submit(draft_id, template, {})
    assert t.sync().rejected == 0
    assert drafts.get(draft_id)["status"] == "submitted"
    for item_id in failed:
        assert t.chain(finding_hazard_id(draft_id, item_id))


def test_a_photo_or_signature_must_be_on_the_tablet(server, tablets, clock):
    t = tablets(server.url, "inspector")
    t.sync()
    drafts = Drafts(t.store, clock=clock)
    template = _template(t.store)
    draft_id = drafts.open(MALL, TEMPLATE, 1, PROFILE)
    _fail_two(drafts, draft_id, template)
    _rest_not_checked(drafts, draft_id, template)
    ghost = sha_of(b"never stored here")
    drafts.save_fields(draft_id, signatures={"inspector": ghost, "representative": ghost})
    with pytest.raises(LocalRefusal) as refused:
        drafts.submit(draft_id, template, {})
    assert refused.value.refusal.code == "photo_missing"
    # nothing was queued or locked
    assert drafts.get(draft_id)["status"] == "draft"
    assert not t.store.read("SELECT op_id FROM outbox")
