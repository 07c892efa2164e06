"""Every error the mock server sends has OpenAI's shape, so one client-side handler fits all:
`{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from fastapi.responses import JSONResponse

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    504: "timeout_error",
}


def error_response(
    status: int,
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """Build a JSON error response in OpenAI's shape."""
    body = {
        "error": {
            "message": message,
            "type": _ERROR_TYPES.get(
                status, "invalid_request_error" if status < 500 else "server_error"
            ),
            "param": param,
            "code": code,
        }
    }
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


async def pause(seconds: float) -> bool:
    """Wait (a lesson knob's delay); False when the server is shutting down and cancels
    the request (Ctrl+C). The caller then answers 503 and ends quietly, instead of the
    cancellation reaching uvicorn, which would print a traceback on the console."""
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        return False
    return True


def shutting_down() -> JSONResponse:
    return error_response(503, "The mock server is shutting down; try again when it is back.")
