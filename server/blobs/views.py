"""Photo and signature bytes by SHA-256: one-shot ``PUT``, or resumable tus-style uploads
(``HEAD`` → ``Upload-Offset``; ``PATCH`` with ``Upload-Offset`` and ``Upload-Length``
continues from there; hash and type are checked when the last byte arrives)."""

from __future__ import annotations

import os

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from server.api.deps import CallerDep, NowDep, SessionDep, UnitOfWorkRoute
from server.api.errors import error_responses, refusal_response
from server.blobs import service
from server.blobs.store import MAX_BLOB_BYTES, BlobStore
from server.blobs.thumbs import thumbnail
from server.hazards.models import Attachment
from server.monitoring.metrics import BLOB_BYTES
from shared.errors import DomainError, Refusal
from shared.sync_wire import header_number

router = APIRouter(tags=["blobs"], route_class=UnitOfWorkRoute)
# the type was sniffed on upload; a browser must not sniff another (as the console's photos)
BLOB_HEADERS = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}


@router.put("/blobs/{sha256}", status_code=201, responses=error_responses(415))
async def put_blob(
    sha256: str, request: Request, caller: CallerDep, session: SessionDep, now: NowDep
) -> dict:
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_BLOB_BYTES:
            raise DomainError.of("too_large", "文件过大（最大20MB）", "file too large (max 20 MB)")
    att = await run_in_threadpool(
        service.put_blob, session, request.app.state.blobs, caller, sha256, bytes(data), now
    )
    return {"sha256": att.sha256, "size": att.size, "mime": att.mime, "complete": att.complete}


@router.head("/blobs/{sha256}")
def head_blob(sha256: str, request: Request, caller: CallerDep, session: SessionDep) -> Response:
    """How many bytes the server holds: resume a ``PATCH`` from ``Upload-Offset``."""
    state = service.upload_state(session, request.app.state.blobs, caller, sha256)
    headers = {"Upload-Offset": str(state.offset), "Cache-Control": "no-store"}
    if state.length:
        headers["Upload-Length"] = str(state.length)
    if state.complete:
        headers["Upload-Complete"] = "1"
    return Response(headers=headers)


def _header_int(request: Request, name: str) -> int:
    value = header_number(request.headers.get(name))
    if value is None:
        raise DomainError.of(
            "malformed_request",
            f"缺少或无效的请求头 {name}",
            f"header {name} must be a whole number",
            fields={name: "required whole number"},
        )
    return value


def _at(request: Request, code: str, zh: str, en: str, offset: int):
    resp = refusal_response(request, Refusal(code, zh, en))
    resp.headers["Upload-Offset"] = str(offset)
    return resp


@router.patch("/blobs/{sha256}", status_code=204, responses=error_responses(415))
async def patch_blob(
    sha256: str, request: Request, caller: CallerDep, session: SessionDep, now: NowDep
) -> Response:
    """Append bytes at ``Upload-Offset``; bytes received before a dropped connection are kept."""
    offset = _header_int(request, "Upload-Offset")
    length = _header_int(request, "Upload-Length")
    service.check_upload_length(length)
    store = request.app.state.blobs
    service._check_name(sha256)
    att = await run_in_threadpool(service.held_for, session, caller, sha256)
    # others send the bytes, into their own partial file: a hash alone reveals and grants nothing
    if att is not None:
        return Response(
            status_code=204, headers={"Upload-Offset": str(att.size), "Upload-Complete": "1"}
        )
    me = caller.user.id
    with store.upload_lock(sha256, me) as locked:
        current = store.partial_size(sha256, me)
        if not locked:
            return _at(
                request,
                "upload_busy",
                "该文件正在上传，请稍后重试",
                "this file is being uploaded on another connection; retry shortly",
                current,
            )
        if offset != current:
            return _at(
                request,
                "offset_mismatch",
                "上传位置不一致，请从服务器给出的位置继续",
                f"the server holds {current} bytes; continue from there",
                current,
            )
        written = current
        with store.open_partial(sha256, me) as fh:
            try:
                async for chunk in request.stream():
                    if written + len(chunk) > length:
                        fh.write(chunk[: length - written])
                        written = length
                        break
                    fh.write(chunk)
                    written += len(chunk)
            except ClientDisconnect:
                pass  # keep what arrived; the device resumes from HEAD's offset
            finally:
                fh.flush()
                os.fsync(fh.fileno())
                BLOB_BYTES.inc(written - current)
        if written < length:
            return Response(status_code=204, headers={"Upload-Offset": str(written)})
        att = await run_in_threadpool(service.finish_upload, session, store, caller, sha256, now)
    return Response(
        status_code=204, headers={"Upload-Offset": str(att.size), "Upload-Complete": "1"}
    )


@router.get("/blobs/{sha256}")
def get_blob(sha256: str, request: Request, caller: CallerDep, session: SessionDep) -> Response:
    att = service.blob_visible(session, caller, sha256)
    data = request.app.state.blobs.read(sha256)
    return Response(content=data, media_type=att.mime, headers=BLOB_HEADERS)


@router.get("/blobs/{sha256}/thumb")
def get_thumb(sha256: str, request: Request, caller: CallerDep, session: SessionDep) -> Response:
    """A JPEG preview at most 480 px a side: a tablet on a mine's line fetches every photo
    of its hazards this way first, the full photo only when tapped. Seen by exactly those who
    see the photo itself."""
    att = service.blob_visible(session, caller, sha256)
    return thumb_response(request.app.state.blobs, att)


def thumb_response(store: BlobStore, att: Attachment) -> Response:
    """The preview (made once, kept on disk), or the photo itself when it cannot be previewed,
    so a page or a tablet still shows something."""
    data = thumbnail(store, att.sha256)
    if data is None:
        return Response(content=store.read(att.sha256), media_type=att.mime, headers=BLOB_HEADERS)
    return Response(content=data, media_type="image/jpeg", headers=BLOB_HEADERS)
