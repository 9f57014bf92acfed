from tablets import MALL, photo, server_events


def test_smoke(live_demo, tablets, engine):
    ins = tablets(live_demo.url, "inspector")
    r = ins.sync()
    assert r.ok, r.errors
    print("pulled", r.pulled, r.bytes_received)
    hid = ins.outbox.report_hazard(site_id=MALL, title="灭火器过期", severity="general")
    ins.outbox.add_photos(hid, [photo("a")])
    ins.outbox.append_event(hid, "note", {"text": "备注"})
    r = ins.sync()
    assert r.ok, r.errors
    print(r)
    print(ins.outbox.counts(), ins.outbox.only_copy())
    assert ins.events() == server_events(engine, "inspector")
    assert ins.chains_verify() == []
