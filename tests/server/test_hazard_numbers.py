"""隐患编号 over real HTTP on both databases: allocated at creation by the server, one
sequence per district and year, distinct and gap-free when reports race."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from server.demo import did
from shared.numbers import NUMBER_RE, sequence_of

MALL = did("site", "万达广场乌海店")


def test_reports_racing_in_one_district_get_consecutive_numbers(live_demo):
    inspectors = [live_demo.login("inspector") for _ in range(4)]

    def report(i: int) -> dict:
        r = inspectors[i % 4].post(
            "/hazards", json={"site_id": MALL, "title": f"编号并发{i}", "severity": "general"}
        )
        assert r.status_code == 201, r.text
        return r.json()

    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(report, range(12)))
    numbers = [h["number"] for h in made]
    assert all(NUMBER_RE.match(n) for n in numbers), numbers
    assert len(set(numbers)) == 12
    seqs = sorted(sequence_of(n) for n in numbers)
    assert seqs == list(range(seqs[0], seqs[0] + 12)), "a sequence without gaps"
    district = made[0]["district_id"]
    assert all(n.startswith(f"YH-{district}-") for n in numbers)
    # the number is the hazard's for good: the detail and the list show the same
    one = made[0]
    assert inspectors[0].get(f"/hazards/{one['id']}").json()["number"] == one["number"]
    found = inspectors[0].get("/hazards", params={"q": one["number"]}).json()["items"]
    assert [h["id"] for h in found] == [one["id"]]  # found by the number a person reads out
