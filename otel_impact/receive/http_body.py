"""Reading an OTLP/HTTP request body into the memory budget: framing, streamed inflate, limits.

The body is read in pieces of at most :data:`PIECE` bytes; every piece (and every inflated
piece) is added to the request's :class:`~.budget.Reservation` *before* it is kept, and
compressed input is inflated as it arrives, so a request never holds more than it has
reserved (plus one piece) and a flood of compressed requests costs at most the budget. The
decoded body must stay within ``limit`` bytes (413), compressed or not.

Framing follows RFC 9112 §6: ``Transfer-Encoding: chunked`` or one ``Content-Length``; both
together, several different lengths, or another transfer coding are refused (the caller closes
the connection, which prevents request smuggling). Chunk sizes must be plain hex.

>>> import io, gzip
>>> from otel_impact.receive.budget import MemoryBudget
>>> data = gzip.compress(b"x" * 1000)
>>> headers = {"Content-Length": str(len(data)), "Content-Encoding": "gzip"}
>>> body = read_body(io.BytesIO(data), headers.get, [headers["Content-Length"]], 10_000,
...                  MemoryBudget(1 << 20).reserve())
>>> len(body)
1000
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Protocol

from otel_impact.receive.budget import Reservation
from otel_impact.receive.protocol import BadRequest

PIECE = 64 * 1024
_MAX_CHUNK_LINE = 1024
_HEX = frozenset(b"0123456789abcdefABCDEF")


class Reader(Protocol):
    """What is read from: a buffered socket file (``rfile``)."""

    def read(self, size: int = ..., /) -> bytes: ...

    def readline(self, size: int = ..., /) -> bytes: ...


class Framing(BadRequest):
    """The body's framing cannot be trusted; the connection must be closed after the answer."""


def body_length(header: Callable[[str], str | None], lengths: list[str]) -> int | None:
    """The Content-Length to read, None for chunked; Framing for contradictory headers."""
    te = (header("Transfer-Encoding") or "").strip().lower()
    if te:
        codings = [c.strip() for c in te.split(",")]
        if codings[-1] != "chunked" or any(c not in ("chunked", "identity") for c in codings):
            raise Framing(f"unsupported Transfer-Encoding {te!r} (only chunked)", 501)
        if lengths:
            raise Framing("both Transfer-Encoding and Content-Length given")
        return None
    values = {v.strip() for v in lengths}
    if not values:
        raise BadRequest("Content-Length or chunked Transfer-Encoding required", 411)
    if len(values) > 1:
        raise Framing("conflicting Content-Length headers")
    text = values.pop()
    if not text.isdigit() or not text.isascii():
        raise Framing(f"bad Content-Length {text[:40]!r}")
    return int(text)


def _pieces(rfile: Reader, length: int | None, limit: int) -> Iterator[bytes]:
    """Raw body bytes in pieces of at most PIECE bytes (de-chunked); 413 beyond ``limit``."""
    if length is not None:
        if length > limit:
            raise BadRequest(f"body of {length} bytes exceeds the {limit}-byte limit", 413)
        left = length
        while left:
            piece = rfile.read(min(left, PIECE))
            if not piece:
                raise ConnectionError("client closed the connection mid-body")
            left -= len(piece)
            yield piece
        return
    total = 0
    while True:
        line = rfile.readline(_MAX_CHUNK_LINE)
        if not line:
            raise ConnectionError("client closed the connection mid-body")
        size_text = line.split(b";", 1)[0].strip()
        if not size_text or len(size_text) > 16 or not set(size_text) <= _HEX:
            raise Framing(f"malformed chunk size {size_text[:20]!r}")
        size = int(size_text, 16)
        if size == 0:
            while (trailer := rfile.readline(_MAX_CHUNK_LINE)) not in (b"\r\n", b"\n"):
                if not trailer:
                    raise ConnectionError("client closed the connection mid-body")
            return
        total += size
        if total > limit:
            raise Framing(f"body exceeds the {limit}-byte limit", 413)
        while size:
            piece = rfile.read(min(size, PIECE))
            if not piece:
                raise ConnectionError("client closed the connection mid-body")
            size -= len(piece)
            yield piece
        if rfile.readline(_MAX_CHUNK_LINE) not in (b"\r\n", b"\n"):
            raise Framing("chunk not followed by CRLF")


def _wbits(encoding: str | None, first: bytes) -> int | None:
    """zlib ``wbits`` for a Content-Encoding (None: identity); 415 for unsupported codings."""
    enc = (encoding or "identity").strip().lower()
    if enc in ("", "identity"):
        return None
    if enc in ("gzip", "x-gzip"):
        return zlib.MAX_WBITS | 16
    if enc == "deflate":
        # HTTP's deflate is zlib-wrapped; some clients send a raw deflate stream (RFC 1950 §2.2)
        zlib_header = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
        return zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS
    raise BadRequest(f"unsupported Content-Encoding {encoding!r} (use gzip, deflate or none)", 415)


def read_body(
    rfile: Reader,
    header: Callable[[str], str | None],
    lengths: list[str],
    limit: int,
    reservation: Reservation,
) -> bytearray:
    """The decoded (inflated) body, every byte of it reserved in ``reservation`` first.

    Raises BadRequest (400/411/413/415), Framing (the connection must close), QueueFull (the
    budget is exhausted: 429) or ConnectionError (the client went away).
    """
    length = body_length(header, lengths)
    out = bytearray()
    pieces = _pieces(rfile, length, limit)
    first = next(pieces, b"")
    wbits = _wbits(header("Content-Encoding"), first)
    if not first:
        return out
    if wbits is None:
        for piece in _chain(first, pieces):
            reservation.grow(len(piece))
            out += piece
        return out
    reservation.grow(PIECE)  # the compressed piece in hand
    inflater = zlib.decompressobj(wbits)
    try:
        for piece in _chain(first, pieces):
            data = piece
            while data:
                if inflater.eof:  # gzip allows concatenated members; anything else is garbage
                    if not wbits & 16:
                        raise BadRequest("trailing bytes after the compressed stream")
                    inflater = zlib.decompressobj(wbits)
                chunk = inflater.decompress(data, min(PIECE, limit - len(out) + 1))
                data = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
                if len(out) + len(chunk) > limit:
                    raise BadRequest(f"decompressed body exceeds the {limit}-byte limit", 413)
                reservation.grow(len(chunk))
                out += chunk
        if not inflater.eof:
            raise BadRequest("compressed body is truncated")
    except zlib.error as exc:
        raise BadRequest(f"cannot decompress body: {exc}") from None
    return out


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest
