"""Every refusal leaves as ``{code, message, fields}`` with a 4xx; only bugs are 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.chain import Refused
from shared.errors import DomainError, Refusal

log = logging.getLogger("hazardchain.api")

_STATUS_FOR_CODE = {"role_not_allowed": 403, "not_addressee": 403, "not_found": 404}


def status_of(exc: Refused | DomainError) -> int:
    """One rule for the API and the console: a domain error carries its status; a chain rule's
    refusal naming fields is bad input (422), else a conflict with the hazard's state (409)."""
    if isinstance(exc, DomainError):
        return exc.status
    return _STATUS_FOR_CODE.get(exc.refusal.code, 422 if exc.refusal.fields else 409)


def lang_of(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh"


def refusal_response(
    request: Request, refusal: Refusal, status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {
            "code": refusal.code,
            "message": refusal.message(lang_of(request)),
            "fields": refusal.fields,
        },
        status_code=status,
        headers=headers,
    )


def _field_name(loc: tuple) -> str:
    parts = [str(x) for x in loc if x not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        # a refusal may tell the client how to retry (a stale refresh proof: a fresh nonce)
        return refusal_response(request, exc.refusal, exc.status, getattr(exc, "headers", None))

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused):
        return refusal_response(request, exc.refusal, status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        fields = {_field_name(tuple(e["loc"])): e["msg"] for e in exc.errors()}
        en = "invalid input: " + "; ".join(f"{k}: {v}" for k, v in fields.items())
        return refusal_response(
            request, Refusal("invalid_input", "输入有误，请检查标出的字段", en, fields), 422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            refusal = Refusal("not_found", "请求的资源不存在", "not found")
        elif exc.status_code == 405:
            refusal = Refusal("method_not_allowed", "不支持该请求方法", "method not allowed")
        else:
            refusal = Refusal("http_error", str(exc.detail), str(exc.detail))
        return refusal_response(request, refusal, exc.status_code)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError):
        log.info("integrity conflict", extra={"path": request.url.path, "error": str(exc.orig)})
        return refusal_response(
            request,
            Refusal(
                "conflict",
                "数据冲突：记录已存在或仍被引用",
                "conflict: the record exists or is still referenced",
            ),
            409,
        )

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception):
        """A bug, not bad input: log it with the request and answer in the same JSON shape."""
        log.exception("unhandled error", extra={"path": request.url.path, "method": request.method})
        return refusal_response(
            request,
            Refusal(
                "internal_error",
                "服务器内部错误，请稍后重试",
                "internal server error; try again later",
            ),
            500,
        )
