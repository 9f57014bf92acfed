"""The tablet as a witness of the server's transparency log (docs/chain.md).

At login the tablet pins the log's public key. On every sync it fetches the latest signed
checkpoint, checks the signature with the pinned key, and checks that the log it saw before is
a prefix of the new one (an RFC 9162 consistency proof from the checkpoint it holds); then it
asks for inclusion proofs of events it received and checks them against its own copy of each
event's hash. Last it audits the hazards it holds copies of (``POST /log/audit``): each
must still exist, hold every event this tablet holds with the same hash, have no event the log
does not prove, and a stored projection equal to this tablet's own fold of those events (a
rotating batch per sync). Whatever fails is kept in ``witness_failure`` (never reset with the local data),
shown on the sync screen and sent to the server: the held checkpoint is then not replaced, so
the next sync checks against the same trusted point again.

Uses ``shared.merkle`` and ``shared.checkpoint``, the very code the server signs and proves
with, so the two cannot disagree about the format.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mobile_app.core.chains import confirmed_events
from mobile_app.core.store import dumps, set_meta
from shared import checkpoint as note
from shared import merkle
from shared.chain import ChainEvent, fold, witnessed_projection
from shared.clock import to_iso

if TYPE_CHECKING:
    from mobile_app.core.sync_client import SyncClient

log = logging.getLogger("hazardchain.tablet.witness")

INCLUSION_BATCH = 50  # inclusion proofs asked per sync; the rest follow on later syncs
AUDIT_BATCH = 200  # hazards audited per sync (the server's limit), the next ones on the next
KEY, ORIGIN, HELD, AUDITED = "log_key", "log_origin", "log_checkpoint", "log_audited_to"

# what a failure means, for the sync screen (zh, en)
REASONS: dict[str, tuple[str, str]] = {
    "key_changed": ("服务器日志签名密钥已更换", "the server's log signing key changed"),
    "signature_invalid": ("日志检查点签名无效", "the log checkpoint's signature is invalid"),
    "log_shrunk": (
        "服务器日志变短（记录被删除或回滚）",
        "the server's log shrank (cut or rolled back)",
    ),
    "consistency_failed": (
        "服务器日志与本机已见的历史不一致（历史被改写）",
        "the server's log no longer contains the history this tablet saw (rewritten)",
    ),
    "inclusion_failed": (
        "服务器日志中的事件与本机副本不一致",
        "an event in the server's log differs from this tablet's copy",
    ),
    "event_missing": (
        "本机持有的事件在服务器日志中不存在",
        "an event this tablet holds is missing from the server's log",
    ),
    "hazard_missing": (
        "本机持有的隐患在服务器上已不存在（整条记录被删除）",
        "a hazard this tablet holds no longer exists on the server (deleted)",
    ),
    "hazard_events_missing": (
        "服务器上该隐患的全部事件已不存在",
        "every event of a hazard this tablet holds is gone from the server",
    ),
    "event_deleted": (
        "本机持有的事件在服务器上已被删除（记录被截断）",
        "an event this tablet holds was deleted on the server (the record was cut)",
    ),
    "event_altered": (
        "服务器上的事件与本机副本不同（记录被改写）",
        "an event on the server differs from this tablet's copy (rewritten)",
    ),
    "event_not_in_log": (
        "服务器上出现了日志中没有的事件（伪造的记录）",
        "the server holds an event its log never recorded (forged)",
    ),
    "projection_mismatch": (
        "服务器上的隐患状态与其事件记录不符",
        "a hazard's state on the server does not match its events",
    ),
}


@dataclass(frozen=True)
class Failure:
    reason: str
    detail: dict[str, Any]

    def message(self, lang: str = "zh") -> str:
        return message(self.reason, lang)


def message(reason: str, lang: str = "zh") -> str:
    """A witness failure in plain words for the sync screen (zh or en)."""
    zh, en = REASONS.get(reason, (reason, reason))
    text = zh if lang.startswith("zh") else en
    lead = "服务器记录可能被篡改：" if lang.startswith("zh") else "Server record may be tampered: "
    return lead + text


class LogWitness:
    def __init__(self, client: SyncClient) -> None:
        self.client = client
        self.store = client.store

    # ------------------------------------------------------------ pinning

    def pin(self) -> None:
        """At login: keep the log's public key. A different key from the one pinned is a
        failure (a new key can sign any history); the old pin stays."""
        _, body = self.client._request("GET", "/log/public-key", read=_json("public_key", "origin"))
        pinned = self.store.meta(KEY)
        if pinned and pinned != body["public_key"]:
            self._fail(Failure("key_changed", {"pinned": pinned, "offered": body["public_key"]}))
            return

        def keep(db: Any) -> None:
            set_meta(db, KEY, body["public_key"])
            set_meta(db, ORIGIN, body["origin"])

        self.store.write(keep)

    def pinned_key(self) -> bytes | None:
        text = self.store.meta(KEY)
        return base64.b64decode(text) if text else None

    # ------------------------------------------------------------ each sync

    def check(self) -> list[Failure]:
        """Checkpoint, consistency from the held one, inclusion of received events; failures
        are stored and reported (returned too)."""
        key = self.pinned_key()
        if key is None:
            self.pin()
            key = self.pinned_key()
            if key is None:
                return self.unresolved()
        _, body = self.client._request("GET", "/log/checkpoint", read=_json("note"))
        try:
            new = note.verify(body["note"], key, self.store.meta(ORIGIN))
        except note.NoteError as exc:
            return self._fail(Failure("signature_invalid", {"error": str(exc)}))
        held_text = self.store.meta(HELD)
        if held_text:
            held = note.verify(held_text, key)
            failure = self._consistent(held, new)
            if failure is not None:
                return self._fail(failure)
        failures = self._inclusions(new)
        audited = self._audit(new)
        if failures:
            return self._fail(*failures, *audited)
        self.store.set_meta(HELD, body["note"])  # the log itself is consistent and proven
        if audited:
            return self._fail(*audited)
        self.report_pending()
        return []

    def _consistent(self, held: note.Checkpoint, new: note.Checkpoint) -> Failure | None:
        detail = {"held_size": held.size, "held_root": held.root_hex, "new_size": new.size}
        if new.size < held.size:
            return Failure("log_shrunk", detail)
        _, body = self.client._request(
            "GET",
            "/log/consistency",
            params={"from": held.size, "to": new.size},
            read=_json("proof"),
        )
        try:
            proof = [bytes.fromhex(p) for p in body["proof"]]
            merkle.verify_consistency(held.size, new.size, held.root, new.root, proof)
        except (ValueError, TypeError) as exc:  # ProofError is a ValueError
            return Failure(
                "consistency_failed", {**detail, "new_root": new.root_hex, "error": str(exc)}
            )
        return None

    def _inclusions(self, cp: note.Checkpoint) -> list[Failure]:
        """Events received and not yet proven, newest first, against this tablet's own hashes."""
        # not yet proven; one the server had not logged by a checkpoint (leaf_index -1) is
        # asked again only once the log has grown past that checkpoint
        rows = self.store.read(
            "SELECT e.id, e.hazard_id, e.hash FROM event e"
            " LEFT JOIN log_proven p ON p.event_id = e.id"
            " WHERE p.event_id IS NULL OR (p.leaf_index < 0 AND p.size < ?)"
            " ORDER BY e.server_seq DESC LIMIT ?",
            [cp.size, INCLUSION_BATCH],
        )
        proven: list[tuple[str, int, int]] = []
        failures: list[Failure] = []
        for row in rows:
            where = {"event_id": row["id"], "hazard_id": row["hazard_id"]}
            status, index, error = self._prove(row["id"], row["hash"], cp)
            if status == "later":  # logged after this checkpoint: proven once it grows
                proven.append((row["id"], -1, cp.size))
            elif status == "absent":
                failures.append(Failure("event_missing", where))
            elif status == "mismatch":
                failures.append(Failure("inclusion_failed", {**where, "error": error}))
            else:
                proven.append((row["id"], index, cp.size))
        if proven:
            self.store.write(
                lambda db: db.conn.executemany(
                    "INSERT OR REPLACE INTO log_proven (event_id, leaf_index, size) VALUES (?, ?, ?)",
                    proven,
                )
            )
        return failures

    def _prove(self, event_id: str, digest: str, cp: note.Checkpoint) -> tuple[str, int, str]:
        """(status, leaf index, error) of one event in the log of ``cp``: ``proven``, ``later``
        (logged after ``cp``), ``absent`` (never logged) or ``mismatch`` (the proof does not
        lead from this hash to the signed root)."""
        from mobile_app.core.sync_client import ServerRefused

        try:
            _, body = self.client._request(
                "GET",
                "/log/inclusion",
                params={"event_id": event_id, "size": cp.size},
                read=_json("index", "proof"),
            )
        except ServerRefused as exc:
            return ("later" if exc.status == 422 else "absent"), -1, str(exc)
        try:
            proof = [bytes.fromhex(p) for p in body["proof"]]
            leaf = merkle.leaf_hash(bytes.fromhex(digest))
            merkle.verify_inclusion(leaf, int(body["index"]), cp.size, proof, cp.root)
        except (ValueError, TypeError) as exc:  # ProofError is a ValueError
            return "mismatch", -1, str(exc)
        return "proven", int(body["index"]), ""

    # ------------------------------------------------------------ the hazards held

    def _audit_batch(self) -> list[str]:
        """The next hazards to audit, after the last one audited, round and round."""
        after = self.store.meta(AUDITED) or ""
        sql = "SELECT DISTINCT hazard_id FROM event WHERE hazard_id > ? ORDER BY hazard_id LIMIT ?"
        ids = [r["hazard_id"] for r in self.store.read(sql, [after, AUDIT_BATCH])]
        if len(ids) < AUDIT_BATCH and after:
            more = self.store.read(sql, ["", AUDIT_BATCH - len(ids)])
            ids += [r["hazard_id"] for r in more if r["hazard_id"] not in ids]
        return ids

    def _audit(self, cp: note.Checkpoint) -> list[Failure]:
        """The server's current record of the hazards this tablet holds, against this tablet's
        copy: what a database administrator changed without the log sees here."""
        ids = self._audit_batch()
        if not ids:
            return []
        _, body = self.client._request(
            "POST", "/log/audit", json={"hazard_ids": ids}, read=_json("hazards")
        )
        db = self.store.reader()
        failures: list[Failure] = []
        for theirs in body["hazards"]:
            failures += self._compare(theirs, confirmed_events(db, theirs["id"]), cp)
        self.store.set_meta(AUDITED, ids[-1])
        return failures

    def _compare(
        self, theirs: dict[str, Any], held: list[ChainEvent], cp: note.Checkpoint
    ) -> list[Failure]:
        hid = theirs["id"]
        if not theirs["found"]:
            return [Failure("hazard_missing", {"hazard_id": hid, "held_events": len(held)})]
        if not theirs["events"]:
            return [Failure("hazard_events_missing", {"hazard_id": hid, "held_events": len(held)})]
        server = {e["id"]: e for e in theirs["events"]}
        failures: list[Failure] = []
        for ev in held:
            where = {"hazard_id": hid, "event_id": ev.id, "seq": ev.seq}
            got = server.get(ev.id)
            if got is None:
                failures.append(Failure("event_deleted", where))
            elif got["hash"] != ev.hash or got["seq"] != ev.seq:
                failures.append(
                    Failure("event_altered", {**where, "held": ev.hash, "server": got["hash"]})
                )
        mine = {ev.id for ev in held}
        newer = [e for e in theirs["events"] if e["id"] not in mine]
        for e in newer:  # not pulled yet, or never logged
            status, _, error = self._prove(e["id"], e["hash"], cp)
            where = {"hazard_id": hid, "event_id": e["id"], "seq": e["seq"]}
            if status == "absent":
                failures.append(Failure("event_not_in_log", where))
            elif status == "mismatch":
                failures.append(Failure("inclusion_failed", {**where, "error": error}))
        if failures or newer:  # the fold is comparable only with the same events
            return failures
        own = witnessed_projection(fold(held))
        stored = theirs.get("projection") or {}
        fields = sorted(k for k, v in own.items() if stored.get(k) != v)
        if fields:
            failures.append(Failure("projection_mismatch", {"hazard_id": hid, "fields": fields}))
        return failures

    # ------------------------------------------------------------ failures

    def _fail(self, *failures: Failure) -> list[Failure]:
        now = to_iso(self.client.clock.now())

        def keep(db: Any) -> None:
            for f in failures:
                text = dumps(f.detail)
                same = db.execute(
                    "SELECT 1 FROM witness_failure WHERE reason = ? AND detail = ?",
                    [f.reason, text],
                ).fetchone()
                if not same:  # a failure seen again on the next sync is one failure
                    db.execute(
                        "INSERT INTO witness_failure (at, reason, detail) VALUES (?, ?, ?)",
                        [now, f.reason, text],
                    )

        self.store.write(keep)
        for f in failures:
            log.error("log witness failure", extra={"reason": f.reason, "detail": f.detail})
        self.report_pending()
        return self.unresolved()

    def report_pending(self) -> None:
        """Send the server every failure it has not acknowledged yet."""
        for row in self.store.read("SELECT * FROM witness_failure WHERE reported = 0 ORDER BY id"):
            self.client._request(
                "POST",
                "/log/witness-report",
                json={
                    "reason": row["reason"],
                    "detail": {**json.loads(row["detail"]), "seen_at": row["at"]},
                    "device_id": self.store.device_id,
                },
            )
            self.store.write(
                lambda db, i=row["id"]: db.execute(
                    "UPDATE witness_failure SET reported = 1 WHERE id = ?", [i]
                )
            )

    def unresolved(self) -> list[Failure]:
        return [
            Failure(r["reason"], json.loads(r["detail"]))
            for r in self.store.read("SELECT reason, detail FROM witness_failure ORDER BY id")
        ]


def _json(*keys: str):
    from mobile_app.core.sync_client import _json_object

    return _json_object(*keys)
