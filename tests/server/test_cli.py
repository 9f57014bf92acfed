"""The `hazardchain` command on a fresh database: upgrade, demo (twice), users, chains, jobs."""

from __future__ import annotations

import os
import re

from cli_server import hazardchain

from server.demo_inspections import RUNS


def test_cli_on_a_fresh_database(tmp_path, backend, db_factory, request):
    if backend == "postgresql":
        db_factory.pg_uri = request.getfixturevalue("pg_uri")
        url = db_factory.fresh("postgresql")  # already migrated; upgrade must be a no-op
    else:
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {
        **os.environ,
        "HAZARDCHAIN_DATABASE_URL": url,
        "HAZARDCHAIN_BLOB_DIR": str(tmp_path / "b"),
        "HAZARDCHAIN_SECRET_KEY": "k" * 40,
        "HAZARDCHAIN_DEMO_PASSWORD": "another-pass",
    }

    def run(env, *args, ok=True):  # the installed command, as ``make run`` calls it
        return hazardchain(env, tmp_path, *args, ok=ok)

    assert "upgraded" in run(env, "db", "upgrade").stdout
    out = run(env, "demo").stdout
    assert "demo data loaded" in out and "officer2" in out
    # signed, with findings, for the console: one per run the demo names
    assert f"{len(RUNS)} demo inspections submitted" in out
    assert "demo self-inspections submitted" in out and "baihuo" in out  # a month of 自查
    again = run(env, "demo").stdout
    assert "already present" in again and "inspections submitted" not in again
    made = run(
        env,
        "users",
        "create",
        "wang",
        "--role",
        "inspector",
        "--district",
        "150303",
        "--password",
        "s3cret-pass",
    )
    assert "created inspector wang" in made.stdout
    dup = run(
        env,
        "users",
        "create",
        "wang",
        "--role",
        "inspector",
        "--district",
        "150303",
        "--password",
        "s3cret-pass",
        ok=False,
    )
    assert dup.returncode == 2 and "username already taken" in dup.stderr
    noscope = run(
        env, "users", "create", "li", "--role", "officer", "--password", "s3cret-pass", ok=False
    )
    assert noscope.returncode == 2 and "district" in noscope.stderr
    verified = run(env, "chains", "verify").stdout
    # the demo's hazards, those its inspections and self-inspections found: every one intact
    m = re.search(r"(\d+) of (\d+) chains verified", verified)
    assert m and m.group(1) == m.group(2) and int(m.group(1)) >= 29, verified
    assert "log intact" in verified
    jobs = run(env, "jobs", "run", "flag_overdue", "--now", "2030-01-01T00:00:00Z").stdout
    assert jobs.startswith("flag_overdue:") and int(jobs.split(":")[1]) > 0
    assert run(env, "jobs", "run", "nope", ok=False).returncode == 2
    # the demo password came from the environment
    from sqlmodel import Session, select

    from server.auth.security import verify_password
    from server.inspections.models import Inspection
    from server.testing import engine_for
    from server.users.models import User

    with engine_for(url) as eng, Session(eng) as s:
        user = s.exec(select(User).where(User.username == "officer")).one()
        assert verify_password(user.password_hash, "another-pass")
        every = s.exec(select(Inspection)).all()
        done = [i for i in every if i.signatures.get("representative")]
        # the regulator's: as many findings as each run of the demo fails items
        assert sorted(i.finding_count for i in done) == sorted(run[3] for run in RUNS)
        own = [i for i in every if not i.signatures.get("representative")]  # 自查: a month
        assert len(own) > 200 and sum(i.finding_count for i in own) == 3
        assert all(i.signatures["representative_name"] for i in done)
        # the gas and e-bike demo inspections' hazards carry their 一件事 links
        from server.matters.models import HazardMatter

        links = {m.link_id for m in s.exec(select(HazardMatter)).all()}
        assert {"lpg.use", "ebike.parking", "ebike.charging"} <= links
