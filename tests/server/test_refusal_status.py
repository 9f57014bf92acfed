"""Every refusal code has one HTTP status, in ``shared.errors.HTTP_STATUS``, and the API
answers with it: a new code must be added to the table, not given a status at its call site."""

from __future__ import annotations

import ast
import uuid
from collections.abc import Iterator
from pathlib import Path

from server.demo import did
from shared.errors import HTTP_STATUS

ROOT = Path(__file__).resolve().parents[2]
# its status is whatever status Starlette raised (server/api/errors.py), not the code's
FRAMEWORK_CODES = {"http_error"}
MALL = did("site", "万达广场乌海店")


def _literals(node: ast.AST | None) -> Iterator[str]:
    """The strings an argument can be: a literal, or either branch of ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _literals(node.body)
        yield from _literals(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _literals(value)


def _code_slot(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, ast.expr | None] | None:
    """Where a function takes a parameter named ``code`` (after self/cls), and its default."""
    names = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    if "code" not in names:
        return None
    index, defaults = names.index("code"), fn.args.defaults
    first_default = len(names) - len(defaults)
    return index, defaults[index - first_default] if index >= first_default else None


def written_codes(dirs: tuple[str, ...] = ("server", "shared")) -> dict[str, str]:
    """Each code a refusal is made with, and one place it is: the first argument of
    ``Refusal``/``DomainError.of`` and whatever a helper takes as its ``code`` parameter
    (``_refuse``, ``refused``, ...), resolved in the caller's module first."""
    modules = {p: ast.parse(p.read_text()) for d in dirs for p in sorted((ROOT / d).rglob("*.py"))}
    funcs = {
        p: [n for n in ast.walk(t) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        for p, t in modules.items()
    }
    takers: dict[str, list[tuple[Path, tuple[int, ast.expr | None]]]] = {}
    for path, defs in funcs.items():
        for fn in defs:
            if (slot := _code_slot(fn)) is not None:
                takers.setdefault(fn.name, []).append((path, slot))
    found: dict[str, str] = {}
    for path, tree in modules.items():
        local = {fn.name for fn in funcs[path]}
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            func = call.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name == "Refusal" or ast.unparse(func).endswith("DomainError.of"):
                slot: tuple[int, ast.expr | None] = (0, None)
            elif name in takers and name not in ("of", "__init__"):
                mine = [s for p, s in takers[name] if p == path]
                if mine:
                    slot = mine[0]
                elif name in local or len(takers[name]) > 1:
                    continue  # a same-named function without a code parameter
                else:
                    slot = takers[name][0][1]
            else:
                continue
            index, default = slot
            arg = next((k.value for k in call.keywords if k.arg == "code"), None)
            if arg is None:
                arg = call.args[index] if index < len(call.args) else default
            for code in _literals(arg):
                found.setdefault(code, f"{path.relative_to(ROOT)}:{call.lineno}")
    return found


def test_every_written_code_has_its_status_in_the_one_table():
    codes = written_codes()
    # the scan sees the kinds of call sites the code base has (else it proves nothing)
    for known in ("not_found", "role_not_allowed", "backup_exists", "invalid_refresh_token"):
        assert known in codes, known
    missing = {c: where for c, where in codes.items() if c not in HTTP_STATUS}
    assert set(missing) <= FRAMEWORK_CODES, (
        f"add these codes to shared.errors.HTTP_STATUS: {missing}"
    )
    assert all(400 <= s < 600 for s in HTTP_STATUS.values())


def test_no_call_site_chooses_a_status():
    """``DomainError`` takes no status any more; this catches one written by a merge."""
    for path in sorted((ROOT / "server").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            if "DomainError" in ast.unparse(call.func):
                assert all(k.arg != "status" for k in call.keywords), f"{path}:{call.lineno}"


def _fresh_user(n: int) -> dict:
    return {
        "username": f"status-{n}-{uuid.uuid4().hex[:8]}",
        "display_name": "状态",
        "role": "inspector",
        "password": "a-long-password-1",
        "district_ids": ["150302"],
    }


def test_the_api_answers_each_code_with_its_status(live_demo):
    """A representative of each status, over real HTTP; the answer's status is its code's."""
    admin = live_demo.login("admin")
    inspector = live_demo.login("inspector")
    user = _fresh_user(1)
    assert admin.post("/users", json=user).status_code == 201
    answers = {
        "not_authenticated": live_demo.client().get("/hazards"),
        "forbidden": inspector.get("/users"),
        "not_found": inspector.get(f"/hazards/{uuid.uuid4()}"),
        "username_taken": admin.post("/users", json=user),
        "invalid_sort": admin.get("/hazards", params={"sort": "password"}),
        "invalid_input": inspector.post("/hazards", json={"title": "t", "severity": "general"}),
        "malformed_request": inspector.post(
            "/sync/push", content=b"\x1f\x8bnot gzip", headers={"Content-Encoding": "gzip"}
        ),
        "unsupported_encoding": inspector.post(
            "/sync/push", content=b"{}", headers={"Content-Encoding": "br"}
        ),
    }
    for code, r in answers.items():
        assert r.json()["code"] == code, (code, r.status_code, r.text)
        assert r.status_code == HTTP_STATUS[code], (code, r.status_code, r.text)
    assert {r.status_code for r in answers.values()} >= {400, 401, 403, 404, 409, 415, 422}


def test_a_chain_rule_refusal_takes_its_code_status(live_demo):
    """Chain refusals (``Refused``) use the same table as services' ``DomainError``: a role
    the rules do not allow was 403 by a special case before the table."""
    hazard = did("hazard", "地下车库电动自行车违规充电")
    inspector = live_demo.login("inspector")
    r = inspector.post(f"/hazards/{hazard}/events", json={"type": "acknowledged", "payload": {}})
    assert r.json()["code"] == "role_not_allowed", r.text
    assert r.status_code == HTTP_STATUS["role_not_allowed"] == 403
