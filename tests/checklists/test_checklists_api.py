"""GET /checklists and /checklists/{id}/{version} over HTTP, for every logged-in role."""

from __future__ import annotations

from checklist_fixtures import TEMPLATE_ID, import_test_templates, make_template, template_dict

from shared.checklist import Template, template_digest


def test_list_and_show_for_every_role(checklists, clock):
    v1 = make_template(1)
    data = template_dict(2)
    data["title"] = {"zh": "测试消防检查表（第2版）", "en": "Test fire checklist (v2)"}
    v2 = make_template(**data)
    import_test_templates(checklists.app.state.engine, clock, v1, v2)

    with checklists.client() as anon:
        assert anon.get("/checklists").status_code == 401
    for user in ("inspector", "officer", "enterprise", "leader", "admin"):
        client = checklists.login(user)
        listed = client.get("/checklists")
        assert listed.status_code == 200, listed.text
        (summary,) = listed.json()["items"]
        assert summary["id"] == TEMPLATE_ID and summary["version"] == 2
        assert summary["versions"] == [1, 2]
        assert summary["title"] == {
            "zh": "测试消防检查表（第2版）",
            "en": "Test fire checklist (v2)",
        }
        assert (summary["item_count"], summary["major_count"], summary["general_count"]) == (
            6,
            1,
            5,
        )
        assert summary["count_rule_count"] == 1 and summary["section_count"] == 1
        assert summary["profiles"] == [{"id": "mall", "zh": "商场", "en": "Mall"}]
        assert summary["standards"][0]["key"] == "gb35181_2025"
        assert summary["digest"] == template_digest(v2)

    every = client.get("/checklists", params={"all": "true"}).json()["items"]
    assert [(s["id"], s["version"]) for s in every] == [(TEMPLATE_ID, 1), (TEMPLATE_ID, 2)]
    assert client.get("/checklists", params={"industry": "mine"}).json()["items"] == []

    # an old version stays servable, byte for byte the template that was imported
    shown = client.get(f"/checklists/{TEMPLATE_ID}/1")
    assert shown.status_code == 200
    assert Template.model_validate(shown.json()) == v1
    assert template_digest(Template.model_validate(shown.json())) == template_digest(v1)
    etag = shown.headers["etag"]
    assert etag == f'"{template_digest(v1)}"'
    assert (
        client.get(f"/checklists/{TEMPLATE_ID}/1", headers={"If-None-Match": etag}).status_code
        == 304
    )
    assert client.get(f"/checklists/{TEMPLATE_ID}/2").json()["title"]["en"].endswith("(v2)")

    missing = client.get(f"/checklists/{TEMPLATE_ID}/9")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert client.get("/checklists/nope/1").status_code == 404
    bad = client.get("/checklists/Bad-Id/1")
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input"
