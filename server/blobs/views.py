"""Photo and signature bytes by SHA-256 (resumable upload arrives with sync)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from server.api.deps import CallerDep, NowDep, SessionDep
from server.blobs import service
from server.blobs.store import MAX_BLOB_BYTES
from shared.errors import DomainError

router = APIRouter(tags=["blobs"])


@router.put("/blobs/{sha256}", status_code=201)
async def put_blob(
    sha256: str, request: Request, caller: CallerDep, session: SessionDep, now: NowDep
) -> dict:
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_BLOB_BYTES:
            raise DomainError.of(
                "too_large", "文件过大（最大20MB）", "file too large (max 20 MB)", status=413
            )
    att = await run_in_threadpool(
        service.put_blob, session, request.app.state.blobs, caller, sha256, bytes(data), now
    )
    return {"sha256": att.sha256, "size": att.size, "mime": att.mime, "complete": att.complete}


@router.head("/blobs/{sha256}")
def head_blob(sha256: str, caller: CallerDep, session: SessionDep) -> Response:
    att = service.blob_visible(session, caller, sha256)
    return Response(headers={"Upload-Offset": str(att.received), "Content-Length": str(att.size)})


@router.get("/blobs/{sha256}")
def get_blob(sha256: str, request: Request, caller: CallerDep, session: SessionDep) -> Response:
    att = service.blob_visible(session, caller, sha256)
    data = request.app.state.blobs.read(sha256)
    return Response(
        content=data, media_type=att.mime, headers={"Cache-Control": "private, max-age=86400"}
    )
