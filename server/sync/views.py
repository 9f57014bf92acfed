"""``POST /sync/push`` and ``GET /sync/pull``: bodies may be gzip-compressed both ways."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect

from server.api.deps import CallerDep, NowDep, SessionDep, SettingsDep, UnitOfWorkRoute
from server.api.errors import error_responses
from server.monitoring.metrics import PULL_CHANGES, count_ops
from server.sync import service
from shared.errors import DomainError
from shared.sync_wire import (
    DEFAULT_PULL_LIMIT,
    DEVICE_ID_PATTERN,
    MAX_JSON_DEPTH,
    MAX_PULL_LIMIT,
    MAX_PUSH_BYTES,
    PullResponse,
    PushRequest,
    PushResponse,
    json_depth_exceeds,
)

router = APIRouter(tags=["sync"], route_class=UnitOfWorkRoute)
GZIP_MIN_BYTES = 1024

_TOO_LARGE = DomainError.of(
    "too_large",
    "同步数据过大，请分批上传",
    f"sync body too large (max {MAX_PUSH_BYTES // (1024 * 1024)} MB uncompressed)",
)


def _gunzip(data: bytes) -> bytes:
    """Decompress with a cap, so a small bomb cannot fill memory."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_PUSH_BYTES + 1)
    except zlib.error:
        raise DomainError.of("malformed_request", "压缩数据损坏", "corrupt gzip body") from None
    if len(out) > MAX_PUSH_BYTES or inflater.unconsumed_tail:
        raise _TOO_LARGE
    return out


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, gunzipped when ``Content-Encoding: gzip``."""
    data = bytearray()
    try:
        async for chunk in request.stream():
            data.extend(chunk)
            if len(data) > MAX_PUSH_BYTES:
                raise _TOO_LARGE
    except ClientDisconnect:  # the device resends the whole batch; nothing was applied
        raise DomainError.of(
            "client_disconnected", "连接中断", "connection closed mid-request"
        ) from None
    raw = bytes(data)
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding == "gzip":
        raw = _gunzip(raw)
    elif encoding not in ("", "identity"):
        raise DomainError.of(
            "unsupported_encoding", "不支持的压缩格式", f"unsupported encoding {encoding}"
        )
    try:
        body = json.loads(raw)
        too_deep = json_depth_exceeds(body)
    except (ValueError, UnicodeDecodeError):
        raise DomainError.of(
            "malformed_request", "请求不是有效的JSON", "body is not JSON"
        ) from None
    except RecursionError:  # nested past the parser's own stack
        too_deep = True
    if too_deep:
        raise DomainError.of(
            "invalid_input",
            "请求的JSON嵌套过深",
            f"body nests deeper than {MAX_JSON_DEPTH} levels",
            fields={"body": f"nested deeper than {MAX_JSON_DEPTH} levels"},
        )
    if not isinstance(body, dict):
        raise DomainError.of("malformed_request", "请求必须是JSON对象", "body must be an object")
    return body


def packed(request: Request, model: BaseModel) -> Response:
    """JSON, gzip-compressed when the client accepts it and it is worth it."""
    return packed_bytes(request, model.model_dump_json().encode())


def wire_json(value: dict[str, Any]) -> bytes:
    """The bytes ``model_dump_json`` writes for the same data (compact, UTF-8 unescaped), from
    plain dicts: a pull page of 1,000 changes is never turned into 1,000 models."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def packed_bytes(request: Request, body: bytes) -> Response:
    headers = {"Vary": "Accept-Encoding"}
    if len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, compresslevel=5, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return Response(content=body, media_type="application/json", headers=headers)


@router.post("/sync/push", response_model=PushResponse, responses=error_responses(415, 426))
def push(
    body: Annotated[dict[str, Any], Depends(json_body)],
    request: Request,
    caller: CallerDep,
    session: SessionDep,
) -> Response:
    """Apply a device's ops in order; one result per op (see docs/sync.md)."""
    service.check_schema(body.get("schema_version"))
    try:
        req = PushRequest.model_validate(body)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_context=False)) from None
    resp = service.push(
        session,
        caller,
        req,
        clock=request.app.state.clock,
        policy=request.app.state.policy,
        tz=request.app.state.settings.timezone,
    )
    count_ops(resp)
    return packed(request, resp)


@router.get("/sync/pull", response_model=PullResponse, responses=error_responses(410, 426))
def pull(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    device_id: Annotated[str, Query(pattern=DEVICE_ID_PATTERN)],
    schema_version: Annotated[int, Query()],
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PULL_LIMIT)] = DEFAULT_PULL_LIMIT,
    app_version: Annotated[str, Query(max_length=32)] = "",
    device_now: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Changes visible to the caller after ``cursor``, in commit order."""
    service.check_schema(schema_version)
    resp = service.pull(
        session,
        caller,
        device_id=device_id,
        cursor=cursor,
        limit=limit,
        schema_version=schema_version,
        app_version=app_version,
        device_now=device_now,
        now=now,
        max_offline_days=settings.sync_max_offline_days,
    )
    PULL_CHANGES.inc(len(resp["changes"]))
    return packed_bytes(request, wire_json(resp))
