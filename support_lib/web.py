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


def nested_deeper_than(body: bytes, limit: int) -> bool:
    """Does the JSON text ``body`` open more than ``limit`` lists or objects inside each
    other? Read as text, without parsing it: Python's own parser gives up on deep nesting
    in some versions (a RecursionError on 3.11) and not in others (3.13), and a web app
    should answer the same everywhere."""
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            escaped, in_string = (False, True) if escaped else (byte == 0x5C, byte != 0x22)
        elif byte == 0x22:  # "
            in_string = True
        elif byte in b"[{":
            depth += 1
            if depth > limit:
                return True
        elif byte in b"]}":
            depth -= 1
    return False
