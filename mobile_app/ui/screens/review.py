"""Review and submit: the findings the answers produce (severity, deadline, basis) with
editable descriptions, notes, the two signatures drawn on screen (签字确认: the inspector and
the site's representative, stored as PNG blobs), a confirmation, then the inspection locks."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from mobile_app.core.backend import ActionRefused
from mobile_app.ui import theme
from mobile_app.ui.photos import pick_photo
from mobile_app.ui.screens.base import PanedScreen, load_kv
from mobile_app.ui.widgets import Badge, FormDialog, FormInput, WrapLabel, confirm

load_kv(__file__)

SAVE_DELAY = 0.5


class FindingCard(BoxLayout):
    item_id = StringProperty("")


class ReviewScreen(PanedScreen):
    locked = BooleanProperty(False)
    heading = StringProperty("")
    self_inspection = BooleanProperty(False)  # 自查: the patroller signs alone
    # a phone shows one pane: 0 the findings (home), 1 the signatures (PanedScreen)

    def fetch(self) -> dict[str, Any]:
        b = self.app.backend
        draft = b.draft(self.params["draft_id"])
        return {
            "draft": draft,
            "findings": b.findings(draft["id"]),
            "completion": b.completion(draft["id"]),
            "site": b.site(draft["site_id"]),
            "self_inspection": b.template(
                draft["template_id"], draft["template_version"]
            ).self_inspection,
        }

    def show(self, data: dict[str, Any]) -> None:
        t = self.t
        self.draft = data["draft"]
        self.findings = data["findings"]
        self.locked = self.draft["status"] == "submitted"
        self.heading = data["site"]["name"]
        self.self_inspection = data["self_inspection"]
        self._timers: dict[str, Any] = {}
        majors = sum(1 for f in self.findings if f["severity"] == "major")
        self.ids.summary.text = t("{n} findings, {m} major").format(n=len(self.findings), m=majors)
        self._show_completion(data["completion"])
        box = self.ids.findings
        box.clear_widgets()
        for f in self.findings:
            card = FindingCard(item_id=f["item_id"])
            head = card.ids.head
            head.add_widget(
                Badge(
                    text=t("Major") if f["severity"] == "major" else t("General"),
                    bg=theme.DANGER if f["severity"] == "major" else theme.MUTED,
                )
            )
            deadline = (
                t("rectify immediately")
                if f["deadline_days"] == 0
                else t("rectify within {d} days").format(d=f["deadline_days"])
            )
            head.add_widget(Badge(text=deadline, bg=theme.WARN))
            if f["photo_required"]:
                ok = bool(f["photos"])
                head.add_widget(
                    Badge(
                        text=t("{n} photos").format(n=len(f["photos"]))
                        if ok
                        else t("Photo missing"),
                        bg=theme.OK if ok else theme.DANGER,
                    )
                )
            card.ids.basis.text = t("Legal basis") + ": " + f["basis"]
            entry = FormInput(text=f["text"], disabled=self.locked)
            entry.bind(text=lambda _w, text, f=f: self._edited(f["item_id"], text))
            card.ids.body.add_widget(entry)
            box.add_widget(card)
        if not self.findings:
            box.add_widget(
                WrapLabel(text=t("No findings: every answered item passed."), color=theme.OK)
            )
        self.ids.notes.text = self.draft["notes"] or ""
        self.ids.notes.disabled = self.locked
        self.ids.representative.text = self.draft["extra"].get("representative_name", "")
        self.ids.representative.disabled = self.locked
        sig = self.draft["extra"].get("signatures", {})
        for who in ("inspector", "representative"):
            pad = self.ids[f"pad_{who}"]
            img = self.ids[f"img_{who}"]
            pad.clear()
            pad.disabled = self.locked
            img.sha256 = sig.get(who, "") if (self.locked or sig.get(who)) else ""
            img.opacity = 1 if img.sha256 else 0
            pad.opacity = 0 if img.sha256 else 1
        self._show_refusal()

    def _show_completion(self, c: dict[str, Any]) -> None:
        """How much was checked: an inspection with items left unanswered cannot be submitted
        (shared.completion), so the count is in sight before the inspector signs."""
        t = self.t
        self.completion = c
        rate = "—" if c["rate"] is None else f"{c['rate'] * 100:.0f}%"
        parts = [
            t("{n} of {total} items checked ({rate})").format(
                n=c["done"], total=c["applicable"], rate=rate
            ),
            t("{n} not applicable").format(n=c["not_applicable"]),
            t("{n} not checked").format(n=c["unchecked"]),
        ]
        left = len(c["unanswered"])
        if left:
            parts.append(t("{n} unanswered").format(n=left))
        if c["unexplained"]:
            parts.append(t("{n} marked without a reason").format(n=len(c["unexplained"])))
        label = self.ids.completion
        label.text = " · ".join(parts)
        label.color = theme.DANGER if (left or c["unexplained"]) else theme.OK
        show = bool(left) and not self.locked
        self.ids.mark_rest.opacity = 1 if show else 0
        self.ids.mark_rest.disabled = not show
        self.ids.mark_rest.width = dp(300) if show else 0
        self.ids.mark_rest.height = theme.TOUCH if show else 0  # a phone stacks it

    def ask_mark_rest(self) -> None:
        """未检查 for every item left, with one reason (e.g. the area was closed that day)."""
        t = self.t
        left = len(self.completion["unanswered"])

        def save(values: dict[str, str]) -> bool:
            reason = values["reason"].strip()
            if not reason:
                return False

            def done(n: int) -> None:
                self.app.toast(t("{n} items marked not checked.").format(n=n))
                self.refresh()

            self.app.call_local(
                self.app.backend.mark_unanswered,
                self.draft["id"],
                "unchecked",
                reason,
                on_done=done,
                on_error=lambda exc: self.app.toast(str(exc)),
            )
            return True

        self.mark_dialog = FormDialog(
            [("reason", t("Why were they not checked?"), "")],
            title=t("Mark {n} unanswered items not checked").format(n=left),
            handler=save,
        )
        self.mark_dialog.open()

    # ---------------------------------------------------------------- saving as you go

    def _later(self, key: str, fn) -> None:
        """Save shortly after the last change (typing, strokes); ``flush`` saves at once."""
        pending = self._timers.pop(key, None)
        if pending is not None:
            pending[0].cancel()

        def run(*_: Any) -> None:
            self._timers.pop(key, None)
            fn()

        self._timers[key] = (Clock.schedule_once(run, SAVE_DELAY), run)

    def flush(self) -> None:
        for event, run in list(self._timers.values()):
            event.cancel()
            run()

    def _edited(self, item_id: str, text: str) -> None:
        if self.locked:
            return

        def save() -> None:
            texts = dict(self.draft["extra"].get("finding_texts", {}))
            texts[item_id] = text
            self.draft["extra"]["finding_texts"] = texts
            self.app.call_local(
                self.app.backend.save_draft_fields, self.draft["id"], finding_texts=texts
            )

        self._later(f"f:{item_id}", save)

    def notes_changed(self, text: str) -> None:
        if self.locked or not hasattr(self, "draft") or text == (self.draft["notes"] or ""):
            return
        self.draft["notes"] = text
        self._later(
            "notes",
            lambda: self.app.call_local(
                self.app.backend.save_draft_fields, self.draft["id"], notes=text
            ),
        )

    def representative_changed(self, text: str) -> None:
        if self.locked or not hasattr(self, "draft"):
            return
        self.draft["extra"]["representative_name"] = text
        self._later(
            "rep",
            lambda: self.app.call_local(
                self.app.backend.save_draft_fields,
                self.draft["id"],
                representative_name=text,
            ),
        )

    def signed(self, who: str) -> None:
        """A stroke ended: store the pad as a PNG blob and name it in the draft."""
        if self.locked or not hasattr(self, "draft"):
            return
        pad = self.ids[f"pad_{who}"]
        if not pad.strokes:
            return

        def save() -> None:
            png = pad.png()
            draft_id = self.draft["id"]
            b = self.app.backend

            def work() -> str:
                sha = b.add_blob(png)
                sig = dict(b.draft(draft_id)["extra"].get("signatures", {}))
                sig[who] = sha
                b.save_draft_fields(draft_id, signatures=sig)
                return sha

            def done(sha: str) -> None:
                self.draft["extra"].setdefault("signatures", {})[who] = sha

            self.app.call_local(work, on_done=done)

        self._later(f"sig:{who}", save)

    def clear_signature(self, who: str) -> None:
        if self.locked:
            return
        self.ids[f"pad_{who}"].clear()
        self.ids[f"img_{who}"].sha256 = ""
        self.ids[f"img_{who}"].opacity = 0
        self.ids[f"pad_{who}"].opacity = 1
        sig = dict(self.draft["extra"].get("signatures", {}))
        sig.pop(who, None)
        self.draft["extra"]["signatures"] = sig
        self.app.call_local(self.app.backend.save_draft_fields, self.draft["id"], signatures=sig)

    # ---------------------------------------------------------------- 拒签

    def ask_refusal(self) -> None:
        """The representative refuses to sign: name a witness, say what happened, then take a
        photo of the scene; the inspection then stands without their signature."""
        if self.locked or not hasattr(self, "draft"):
            return
        t = self.t
        current = self.draft["extra"].get("refusal") or {}

        def save(values: dict[str, str]) -> bool:
            witness = values["witness"].strip()
            if not witness:
                self.app.toast(t("Name the witness of the refusal."))
                return False
            pick_photo(
                self.app,
                lambda sha: self.refusal_recorded(witness, values["reason"].strip(), sha),
            )
            return True

        FormDialog(
            [
                ("witness", t("Witness (name and position)"), current.get("witness", "")),
                ("reason", t("What happened"), current.get("reason", "")),
            ],
            title=t("Representative refuses to sign (拒签)"),
            handler=save,
        ).open()

    def refusal_recorded(self, witness: str, reason: str, photo_sha: str) -> None:
        """Keep the refusal in the draft once its photo is stored."""
        refusal = {"refused": True, "witness": witness, "reason": reason, "photo": photo_sha}
        self.draft["extra"]["refusal"] = refusal
        self.app.call_local(self.app.backend.save_draft_fields, self.draft["id"], refusal=refusal)
        self._show_refusal()

    def _show_refusal(self) -> None:
        refusal = self.draft["extra"].get("refusal") or {}
        signed = (self.draft["extra"].get("signatures") or {}).get("representative")
        label = self.ids.refusal
        if refusal.get("refused") and not signed:
            label.text = self.t("Refused to sign · witness: {w} · photo taken").format(
                w=refusal.get("witness", "")
            )
        else:
            label.text = ""

    # ---------------------------------------------------------------- submitting

    def ask_submit(self) -> None:
        t = self.t
        majors = sum(1 for f in self.findings if f["severity"] == "major")
        message = t(
            "Submit this inspection with {n} findings ({m} major)? After submitting it is locked and cannot be changed."
        ).format(n=len(self.findings), m=majors)
        confirm(t("Submit inspection"), message, self.submit, yes=t("Submit"))

    def submit(self) -> None:
        self.flush()  # pending saves queue on the local lane ahead of the submission
        draft_id = self.draft["id"]

        def done(result: dict) -> None:
            self.app.toast(
                self.t(
                    "Inspection submitted and locked; {n} hazards will be sent at the next sync."
                ).format(n=result["findings"])
            )
            self.app.update_pending()
            self.refresh()
            if self.app.online and self.app.auto_sync:
                self.app.start_sync()

        def refused(exc: BaseException) -> None:
            self.app.toast(self._why(exc))

        self.app.call_local(self.app.backend.submit_draft, draft_id, on_done=done, on_error=refused)

    def _why(self, exc: BaseException) -> str:
        t = self.t
        msg = str(exc)
        if isinstance(exc, ActionRefused):
            if exc.code == "signatures_required" and self.self_inspection:
                return t("The patroller must sign.")
            if exc.code == "signatures_required":
                return t(
                    "Both signatures are needed: the inspector's and the site representative's."
                )
            if exc.code == "refusal_incomplete":
                return t(
                    "A refusal to sign needs the inspector's signature, a witness and a photo."
                )
            if exc.code == "inspection_incomplete":
                return msg  # names the items: what to answer or give a reason for
            if exc.code == "photo_required":
                n = len(exc.fields)
                return t("{n} failed items need a photo before submitting.").format(n=n)
        return t("Not submitted: ") + msg

    def back_to_checklist(self) -> None:
        self.app.go("checklist", draft_id=self.draft["id"])
