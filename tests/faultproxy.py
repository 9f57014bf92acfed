"""A fault-injecting TCP proxy for tests: sits on 127.0.0.1 in front of a loopback server and,
per connection, cuts the stream at a chosen byte offset in either direction (with a FIN or a
RST), delays it, stalls it, or passes it untouched. Loopback only, by construction.

    proxy = FaultProxy(server_port, plan=random_plan(random.Random(7))).start()
    ... requests to proxy.url ...
    proxy.heal(); proxy.stop()
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Fault:
    """What happens to one connection. ``None`` offsets mean that direction is not cut."""

    up_cut: int | None = None  # client → server bytes forwarded before the cut
    down_cut: int | None = None  # server → client bytes forwarded before the cut
    reset: bool = False  # cut with a RST (SO_LINGER 0) rather than a FIN
    delay: float = 0.0  # seconds before forwarding each chunk
    stall: bool = False  # at the cut, hold the connection silent instead of closing it
    name: str = "clean"


CLEAN = Fault()
Plan = Callable[[], Fault]


def random_plan(
    rng: random.Random, *, clean: float = 0.5, max_offset: int = 6000, stall: float = 0.08
) -> Plan:
    """Faults drawn from ``rng``: cuts at random offsets both ways, resets, delays and (a
    share ``stall`` of the faults) stalls, which cost the client a full read timeout."""

    def plan() -> Fault:
        x = rng.random()
        if x < clean:
            return CLEAN
        # log-uniform: as many cuts inside the headers as inside the bodies of big requests
        offset = int(math.exp(rng.uniform(0, math.log(max_offset))))
        reset = rng.random() < 0.4
        x = rng.random()
        if x < stall:
            return Fault(down_cut=offset, stall=True, name="stall")
        if x < stall + (1 - stall) * 0.4:
            return Fault(up_cut=offset, reset=reset, name="cut_up")
        if x < stall + (1 - stall) * 0.9:
            return Fault(down_cut=offset, reset=reset, name="cut_down")
        return Fault(delay=rng.uniform(0.005, 0.05), name="delay")

    return plan


def _check_loopback(host: str) -> None:
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"fault proxy targets loopback only, not {host}")


class FaultProxy:
    def __init__(
        self, target_port: int, *, target_host: str = LOOPBACK, plan: Plan | None = None
    ) -> None:
        _check_loopback(target_host)
        self.target = (target_host, target_port)
        self.plan: Plan = plan or (lambda: CLEAN)
        self.stats: Counter[str] = Counter()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOOPBACK, 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, name="faultproxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> FaultProxy:
        self._listener.listen(64)
        self._thread.start()
        return self

    def heal(self) -> None:
        """No more faults for new connections (existing ones are dropped)."""
        self.plan = lambda: CLEAN
        self.drop_all()

    def drop_all(self) -> None:
        with self._lock:
            socks = list(self._open)
        for s in socks:
            _close(s, reset=True)

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        with contextlib.suppress(OSError):
            self._listener.close()
        self.drop_all()
        self._thread.join(timeout=5)

    # ---------------------------------------------------------------- plumbing

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            fault = self.plan()
            self.stats[fault.name] += 1
            threading.Thread(target=self._serve, args=(client, fault), daemon=True).start()

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.update(socks)

    def _untrack(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.difference_update(socks)

    def _serve(self, client: socket.socket, fault: Fault) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            self.stats["upstream_down"] += 1
            _close(client, reset=True)
            return
        upstream.settimeout(None)
        self._track(client, upstream)
        done = threading.Event()
        ended: list[str] = []
        pumps = [
            threading.Thread(
                target=self._pump,
                args=(client, upstream, fault.up_cut, fault, done, ended),
                daemon=True,
            ),
            threading.Thread(
                target=self._pump,
                args=(upstream, client, fault.down_cut, fault, done, ended),
                daemon=True,
            ),
        ]
        for p in pumps:
            p.start()
        done.wait()
        if fault.stall and ended == ["cut"] and not self._stop.is_set():
            # hold the connection silent: the client has to time out on its own
            self._stop.wait(30)
        _close(client, reset=fault.reset)
        _close(upstream, reset=fault.reset)
        for p in pumps:
            p.join(timeout=5)
        self._untrack(client, upstream)

    def _pump(
        self,
        src: socket.socket,
        dst: socket.socket,
        budget: int | None,
        fault: Fault,
        done: threading.Event,
        ended: list[str],
    ) -> None:
        """Copy one direction until EOF, an error or the cut. The connection ends at the cut,
        or once both directions have ended."""
        sent = 0
        how = "eof"
        while not done.is_set():
            try:
                data = src.recv(65536)
            except OSError:
                how = "error"
                break
            if not data:
                break
            if fault.delay:
                time.sleep(fault.delay)
            if budget is not None and sent + len(data) >= budget:
                with contextlib.suppress(OSError):
                    dst.sendall(data[: max(0, budget - sent)])
                self.stats["cuts"] += 1
                how = "cut"
                break
            try:
                dst.sendall(data)
            except OSError:
                how = "error"
                break
            sent += len(data)
        if not (how == "cut" and fault.stall):
            with contextlib.suppress(OSError):
                dst.shutdown(socket.SHUT_WR)
        with self._lock:
            ended.append(how)
            if how == "cut" or len(ended) == 2:
                done.set()


def _close(sock: socket.socket, *, reset: bool) -> None:
    with contextlib.suppress(OSError):
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
