"""``hazardchain import users|sites FILE [--dry-run]`` on a server built by the README's
commands: the dry run prints each row's problem and writes nothing; the real run writes every
row, which the API then lists."""

from __future__ import annotations

import uuid

from server.imports.service import COLUMNS
from server.testing import xlsx_bytes


def test_cli_dry_run_then_import(cli_server, tmp_path):
    tag = uuid.uuid4().hex[:6]
    headers = [c.header for c in COLUMNS["sites"]]
    good = [f"命令行导入{tag}", "crowded_venue", "school", "150304", "blue", "", "", ""]
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx_bytes([headers, good, [f"坏{tag}", "mine", "mall", "150302", "red"]]))
    r = cli_server.run("import", "sites", str(bad), "--dry-run", ok=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "3\t场所类型\t" in r.stderr and "不属于行业" in r.stderr
    r = cli_server.run("import", "sites", str(bad), "--lang", "en", ok=False)
    assert r.returncode == 1 and "nothing was imported" in r.stderr

    ok = tmp_path / "ok.xlsx"
    ok.write_bytes(xlsx_bytes([headers, good]))
    r = cli_server.run("import", "sites", str(ok), "--dry-run")
    assert "1行均无问题" in r.stdout
    with cli_server.login("admin") as admin:
        assert admin.get("/sites", params={"name": tag}).json()["total"] == 0
        cli_server.run("import", "sites", str(ok))
        listed = admin.get("/sites", params={"name": tag}).json()["items"]
    assert [(s["name"], s["district_id"]) for s in listed] == [(good[0], "150304")]

    template = tmp_path / "users.xlsx"
    cli_server.run("import", "users", str(template), "--template")
    assert template.stat().st_size > 0
    r = cli_server.run("import", "users", str(tmp_path / "missing.xlsx"), ok=False)
    assert r.returncode == 2
