"""Console login, session cookie and CSRF over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from console_helpers import REPORTED, VERIFIED, WUDA_MAJOR, ConsoleClient


def test_login_sets_a_safe_cookie_and_logout_ends_the_session(console):
    c = console()
    token = c.token("/console/login")
    r = c.http.post(
        "/console/login",
        data={"username": "officer", "password": "demo-password", "csrf_token": token},
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/queue"
    cookies = [h.lower() for h in r.headers.get_list("set-cookie")]
    session_cookie = next(h for h in cookies if h.startswith("hc_console="))
    assert "httponly" in session_cookie and "samesite=lax" in session_cookie
    assert c.get("/console/queue").status_code == 200
    stolen = c.http.cookies.get("hc_console")
    r = c.post_form("/console/logout", {}, from_page="/console/queue")
    assert r.status_code == 303
    # the auth session is revoked on the server: replaying the old cookie does not work
    other = ConsoleClient(str(c.http.base_url))
    other.http.cookies.set("hc_console", stolen, path="/console")
    r = other.get("/console/queue")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    other.close()


def test_bad_password_is_shown_in_the_users_language(console):
    for lang, words in (
        ("zh", "用户名或密码错误"),
        (None, "用户名或密码错误"),
        ("en", "wrong username"),
    ):
        c = console(lang=lang)
        r = c.post_form(
            "/console/login",
            {"username": "officer", "password": "nope"},
            from_page="/console/login",
        )
        assert r.status_code == 401 and words in r.text


def test_pages_need_a_login(console):
    c = console()
    r = c.get("/console/queue?tab=overdue")
    assert r.status_code == 303
    assert r.headers["location"] == "/console/login?next=/console/queue%3Ftab%3Doverdue"
    c.http.cookies.set("hc_console", "forged.value.123.sig", path="/console")
    assert c.get("/console/dashboard").status_code == 303


def test_posts_without_a_valid_csrf_token_are_refused(console):
    officer = console("officer")
    path = f"/console/hazards/{VERIFIED}/act"
    r = officer.http.post(path, data={"action": "closed", "comment": "x"})
    assert r.status_code == 403 and "表单已过期" in r.text
    r = officer.http.post(path, data={"action": "closed", "csrf_token": "forged"})
    assert r.status_code == 403
    # a token minted for another session (here: before login) is no good either
    anon = console()
    anon_token = anon.token("/console/login")
    officer.http.cookies.set("hc_csrf", anon.http.cookies.get("hc_csrf"), path="/console")
    r = officer.http.post(path, data={"action": "closed", "csrf_token": anon_token})
    assert r.status_code == 403
    # nothing was appended
    page = console("officer").get(f"/console/hazards/{VERIFIED}")
    assert "已验收" in page.text
    # the login form is protected as well
    r = console().http.post(
        "/console/login", data={"username": "officer", "password": "demo-password"}
    )
    assert r.status_code == 403


def test_out_of_scope_and_unknown_pages_are_404(console):
    officer = console("officer")  # 海勃湾区
    r = officer.get(f"/console/hazards/{WUDA_MAJOR}")
    assert r.status_code == 404 and "不在您的辖区" in r.text
    assert officer.get("/console/hazards/nope").status_code == 404
    assert officer.get("/console/no-such-page").status_code == 404
    assert officer.get("/console/matters/nope").status_code == 404
    officer2 = console("officer2")  # 乌达区
    assert officer2.get(f"/console/hazards/{WUDA_MAJOR}").status_code == 200
    assert officer2.get(f"/console/hazards/{REPORTED}").status_code == 404


def test_roles_see_only_their_pages(console):
    officer = console("officer")
    r = officer.get("/console/admin/users")
    assert r.status_code == 403 and "无权访问" in r.text
    enterprise = console("enterprise")
    assert enterprise.get("/console/dashboard").status_code == 403
    assert enterprise.get("/console/inspections").status_code == 404
    assert console("admin").get("/console/admin/users").status_code == 200


def test_language_toggle(console):
    c = console("officer")
    r = c.get("/console/lang/en?next=/console/queue")
    assert r.status_code == 303 and r.headers["location"] == "/console/queue"
    assert "Work queue" in c.get("/console/queue").text
    r = c.get("/console/lang/zh?next=https://evil.example/")
    assert r.headers["location"] == "/console/"  # never an outside URL
    assert "工作台" in c.get("/console/queue").text
