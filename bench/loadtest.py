"""Load test (issue 13): N simulated tablets (loadtest/locustfile.py) doing a district's day
against ``hazardchain serve`` on PostgreSQL, with 1 and with 4 workers, on loopback.

Each configuration gets the same start: a database copied from one template that
``hazardchain db upgrade`` and ``hazardchain demo`` built (with its photo folder), then
``hazardchain serve --workers N`` (the scheduler in the process for 1, beside the workers for
more), then locust headless for a fixed time. Reported per configuration: throughput (HTTP
requests/s and tablet syncs/s), p50/p95/p99 per endpoint, failures (must be 0: an HTTP error, a
refused op or a sync cut short), the server's peak RSS (every process of it, summed, sampled
twice a second) and the CPU seconds the server and the tablets' process used — the tablets
run on the same machine, so a load generator near one full core means the figure is the
client's, not the server's. Ends with the ratio 4 workers : 1 and one JSON line.

Usage: python bench/loadtest.py [--users 50] [--run-time 120] [--workers 1,4] [--quick]
``--quick``: 10 tablets for 30 s each (under two minutes). Exit status 1 on any failure.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.testing import _pg_exec, free_port, pg_admin_uri, start_embedded_postgres  # noqa: E402

BIN = Path(sys.executable).parent
LOCUSTFILE = ROOT / "loadtest" / "locustfile.py"


# ---------------------------------------------------------------- process figures


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (psutil when installed, else /proc)."""
    try:
        import psutil

        proc = psutil.Process(pid)
        return [pid, *(p.pid for p in proc.children(recursive=True))]
    except ImportError:
        pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo.extend(int(c) for c in task.read_text().split())
    return out


def _rss(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of the process (and of its children it has waited for)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        return ticks / os.sysconf("SC_CLK_TCK")
    return 0.0


class Sampler(threading.Thread):
    """Peak summed RSS and CPU seconds of a process tree, sampled every ``every`` seconds
    (CPU of processes that ended between samples is lost: the server's do not end)."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak_rss = 0
        self.cpu: dict[int, float] = {}
        self.stopping = threading.Event()

    def sample(self) -> None:
        pids = _tree(self.pid)
        self.peak_rss = max(self.peak_rss, sum(_rss(p) for p in pids))
        for p in pids:
            self.cpu[p] = max(self.cpu.get(p, 0.0), _cpu_seconds(p))

    def run(self) -> None:
        while not self.stopping.wait(self.every):
            self.sample()

    def cpu_since(self, start: dict[int, float]) -> float:
        return sum(v - start.get(p, 0.0) for p, v in self.cpu.items())


# ---------------------------------------------------------------- the installation


@dataclass
class Installation:
    """One template database with the demo, and its photo folder."""

    admin_uri: str
    workdir: Path
    template: str = ""
    copies: list[str] = field(default_factory=list)

    def env(self, url: str, blobs: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HAZARDCHAIN_")}
        env.update(
            HAZARDCHAIN_DATABASE_URL=url,
            HAZARDCHAIN_BLOB_DIR=str(blobs),
            HAZARDCHAIN_SECRET_KEY=secrets.token_urlsafe(48),
            HAZARDCHAIN_BACKUP_KEEP="0",  # the nightly job's catch-up run would copy the db
            # tablets reach the workers through nginx, whose keep-alive is 75 s (a server that
            # closes an idle connection just as a tablet sends on it makes the tablet retry)
            HAZARDCHAIN_KEEP_ALIVE_SECONDS="75",
        )
        return env

    def build(self) -> None:
        self.template = f"loadtest_template_{secrets.token_hex(4)}"
        _pg_exec(self.admin_uri, f'CREATE DATABASE "{self.template}"')
        env = self.env(pg_admin_uri(self.admin_uri, self.template), self.workdir / "blobs")
        for args in (("db", "upgrade"), ("demo",)):
            subprocess.run(
                [str(BIN / "hazardchain"), *args],
                env=env,
                cwd=self.workdir,
                check=True,
                capture_output=True,
                timeout=600,
            )

    def copy(self, name: str) -> tuple[str, Path]:
        db = f"loadtest_{name}_{secrets.token_hex(4)}"
        _pg_exec(self.admin_uri, f'CREATE DATABASE "{db}" TEMPLATE "{self.template}"')
        self.copies.append(db)
        blobs = self.workdir / f"blobs-{name}"
        shutil.copytree(self.workdir / "blobs", blobs)
        return pg_admin_uri(self.admin_uri, db), blobs

    def drop(self) -> None:
        for db in [*self.copies, self.template]:
            with contextlib.suppress(Exception):
                _pg_exec(self.admin_uri, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def serve(env: dict[str, str], cwd: Path, workers: int, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [str(BIN / "hazardchain"), "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited:\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            up = log.read_text(errors="replace").count("Application startup complete")
            if up >= workers and httpx.get(url + "/healthz", timeout=2).status_code == 200:
                settle(proc.pid)
                return proc, url
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"serve never answered:\n{log.read_text()}")
        time.sleep(0.2)


def settle(pid: int, idle: float = 0.25, most: float = 90.0) -> None:
    """Until the server's processes use less than ``idle`` of a core over a second: every
    worker has imported and the scheduler's start-up catch-up has run, so each configuration
    starts its measurement from the same quiet state."""
    deadline = time.monotonic() + most
    before = sum(_cpu_seconds(p) for p in _tree(pid))
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = sum(_cpu_seconds(p) for p in _tree(pid))
        if now - before < idle:
            return
        before = now


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- one run


def read_stats(prefix: Path) -> list[dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="") as f:
        return list(csv.DictReader(f))


def steady_rate(prefix: Path, users: int) -> tuple[float, float]:
    """HTTP requests/s and tablet syncs/s once every tablet has logged in and made its first
    sync (the start of a day, with its password hashing and full download, is reported per
    endpoint but would otherwise weigh on a short run's throughput)."""
    history: dict[float, dict[str, int]] = {}
    with open(f"{prefix}_stats_history.csv", newline="") as f:
        for r in csv.DictReader(f):
            key = "SYNC " + r["Name"] if r["Type"] == "SYNC" else r["Name"]
            history.setdefault(float(r["Timestamp"]), {})[key] = int(r["Total Request Count"])
    stamps = sorted(history)
    if not stamps:
        return 0.0, 0.0

    def counts(t: float) -> tuple[int, int]:
        row = history[t]
        syncs = sum(v for k, v in row.items() if k.startswith("SYNC ") and "first" not in k)
        http = row.get("Aggregated", 0) - sum(v for k, v in row.items() if k.startswith("SYNC "))
        return http, syncs

    start = next((t for t in stamps if history[t].get("SYNC first sync", 0) >= users), None)
    if start is None or stamps[-1] - start < 5:
        return 0.0, 0.0
    (h0, s0), (h1, s1) = counts(start), counts(stamps[-1])
    span = stamps[-1] - start
    return round((h1 - h0) / span, 2), round((s1 - s0) / span, 2)


def run_locust(url: str, users: int, seconds: int, prefix: Path, workdir: Path) -> int:
    env = {**os.environ, "LOADTEST_DIR": str(workdir / f"tablets-{prefix.name}")}
    cmd = [
        str(BIN / "locust"),
        *("-f", str(LOCUSTFILE), "--headless", "--only-summary", "--host", url),
        *("-u", str(users), "-r", str(max(1, users // 10)), "-t", f"{seconds}s"),
        *("--stop-timeout", "60", "--csv", str(prefix), "--csv-full-history"),
        *("--loglevel", "WARNING"),
    ]
    with open(f"{prefix}.log", "wb") as out:
        locust = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        started = _cpu_seconds(locust.pid)
        cpu = started
        while locust.poll() is None:
            cpu = max(cpu, _cpu_seconds(locust.pid))
            time.sleep(0.5)
    run_locust.cpu = cpu - started  # type: ignore[attr-defined]
    return locust.returncode


def postmaster(workdir: Path) -> int | None:
    """The embedded PostgreSQL's main process (its backends are its children)."""
    for pidfile in workdir.glob("pg/**/postmaster.pid"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(pidfile.read_text().split()[0])
    return None


def one(inst: Installation, workers: int, users: int, seconds: int) -> dict:
    url_db, blobs = inst.copy(f"w{workers}")
    env = inst.env(url_db, blobs)
    log = inst.workdir / f"serve-w{workers}.log"
    proc, url = serve(env, inst.workdir, workers, log)
    sampler = Sampler(proc.pid)
    pg_pid = postmaster(inst.workdir)
    database = Sampler(pg_pid) if pg_pid else None
    for s in filter(None, (sampler, database)):
        s.sample()
    cpu0, db0 = dict(sampler.cpu), dict(database.cpu) if database else {}
    for s in filter(None, (sampler, database)):
        s.start()
    prefix = inst.workdir / f"locust-w{workers}"
    load = os.getloadavg()[0]
    t0 = time.monotonic()
    try:
        code = run_locust(url, users, seconds, prefix, inst.workdir)
    finally:
        elapsed = time.monotonic() - t0
        for s in filter(None, (sampler, database)):
            s.sample()
            s.stopping.set()
        stop(proc)
    rows = read_stats(prefix)
    endpoints = {}
    for r in rows:
        if r["Name"] == "Aggregated":
            continue
        endpoints[f"{r['Type']} {r['Name']}" if r["Type"] == "SYNC" else r["Name"]] = {
            "count": int(r["Request Count"]),
            "failures": int(r["Failure Count"]),
            "p50_ms": float(r["50%"] or 0),
            "p95_ms": float(r["95%"] or 0),
            "p99_ms": float(r["99%"] or 0),
            "per_s": round(float(r["Requests/s"]), 2),
        }
    http = [v for k, v in endpoints.items() if not k.startswith("SYNC")]
    syncs = [v for k, v in endpoints.items() if k.startswith("SYNC") and "first" not in k]
    failures = sum(v["failures"] for v in endpoints.values())
    fails_csv = Path(f"{prefix}_failures.csv")
    steady_http, steady_syncs = steady_rate(prefix, users)
    return {
        "workers": workers,
        "users": users,
        "seconds": round(elapsed, 1),
        "requests": sum(v["count"] for v in http),
        "requests_per_s": round(sum(v["count"] for v in http) / seconds, 2),
        "syncs_per_s": round(sum(v["count"] for v in syncs) / seconds, 2),
        "steady_requests_per_s": steady_http,
        "steady_syncs_per_s": steady_syncs,
        "failures": failures,
        "failure_kinds": fails_csv.read_text()[:2000] if failures and fails_csv.exists() else "",
        "locust_exit": code,
        "server_peak_rss_mb": round(sampler.peak_rss / 2**20, 1),
        "server_cpu_s": round(sampler.cpu_since(cpu0), 1),
        "tablets_cpu_s": round(getattr(run_locust, "cpu", 0.0), 1),
        "database_cpu_s": round(database.cpu_since(db0), 1) if database else None,
        # other work on the machine: the figures are only comparable on a quiet one
        "load_average": [round(load, 1), round(os.getloadavg()[0], 1)],
        "endpoints": endpoints,
    }


def show(result: dict) -> None:
    print(
        f"\n== {result['workers']} worker(s), {result['users']} tablets, {result['seconds']} s: "
        f"{result['requests_per_s']} requests/s, {result['syncs_per_s']} syncs/s (after the "
        f"first syncs: {result['steady_requests_per_s']} requests/s, "
        f"{result['steady_syncs_per_s']} syncs/s), "
        f"{result['failures']} failures, server peak RSS {result['server_peak_rss_mb']} MB, "
        f"CPU s: server {result['server_cpu_s']}, database {result['database_cpu_s']}, "
        f"tablets {result['tablets_cpu_s']}; load average {result['load_average']}"
    )
    print(f"   {'endpoint':<34} {'count':>6} {'fail':>5} {'p50':>7} {'p95':>7} {'p99':>7}  ms")
    for name, v in sorted(result["endpoints"].items()):
        print(
            f"   {name:<34} {v['count']:>6} {v['failures']:>5} "
            f"{v['p50_ms']:>7.0f} {v['p95_ms']:>7.0f} {v['p99_ms']:>7.0f}"
        )
    if result["failure_kinds"]:
        print("   failures:\n" + result["failure_kinds"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--run-time", type=int, default=120, help="seconds per configuration")
    ap.add_argument("--workers", default="1,4", help="worker counts to compare")
    ap.add_argument("--quick", action="store_true", help="10 tablets, 30 s each")
    args = ap.parse_args()
    if args.quick:
        args.users, args.run_time = 10, 30
    counts = [int(x) for x in args.workers.split(",")]
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="hazardchain-loadtest-"))
    admin_uri, handle = start_embedded_postgres(workdir / "pg")
    inst = Installation(admin_uri, workdir)
    results = []
    try:
        inst.build()
        print(
            f"PostgreSQL (embedded), {os.cpu_count()} CPUs; tablets: {args.users}; "
            f"installation built in {time.monotonic() - started:.0f} s"
        )
        for n in counts:
            results.append(one(inst, n, args.users, args.run_time))
            show(results[-1])
    finally:
        inst.drop()
        handle.cleanup()  # type: ignore[attr-defined]
        shutil.rmtree(workdir, ignore_errors=True)
    by = {r["workers"]: r for r in results}
    lo, hi = min(by), max(by)

    def ratio_of(key: str) -> float | None:
        return round(by[hi][key] / by[lo][key], 2) if by[lo][key] else None

    ratio, steady = ratio_of("requests_per_s"), ratio_of("steady_requests_per_s")
    if len(by) > 1:
        print(f"\n{hi} workers vs {lo}: {ratio}x requests/s ({steady}x after the first syncs)")
    failures = sum(r["failures"] for r in results)
    summary = {
        "bench": "loadtest",
        "quick": args.quick,
        "users": args.users,
        "run_time_s": args.run_time,
        "cpus": os.cpu_count(),
        f"ratio_{hi}v{lo}": ratio,
        f"steady_ratio_{hi}v{lo}": steady,
        "failures": failures,
        "wall_s": round(time.monotonic() - started, 1),
        "runs": [
            {k: v for k, v in r.items() if k not in ("endpoints", "failure_kinds")}
            | {"endpoints": r["endpoints"]}
            for r in results
        ],
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 1 if failures or any(r["locust_exit"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
