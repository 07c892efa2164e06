"""What the kit's two web apps, the mock server and the webhook service, share."""

from __future__ import annotations

from starlette.requests import Request


async def read_body_within(request: Request, limit: int) -> bytes | None:
    """The whole request body, or None once it is over ``limit`` bytes.

    The declared Content-Length is checked first, then the bytes actually received: a
    chunked upload declares no length, and reading it whole before looking would let a
    client make the server hold any amount in memory. The body is kept where
    ``Request.body()`` looks for it, so the route can still read it."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    request._body = bytes(body)
    return request._body
