"""The part of SPDY/3.1 that `kubectl port-forward` speaks, as pure framing functions.

kubectl 1.31+ tunnels a SPDY/3.1 connection through a WebSocket (subprotocol
`SPDY/3.1+portforward.k8s.io`): the WebSocket's binary messages carry the SPDY byte stream, cut
anywhere. Per forwarded connection the client opens two streams (SYN_STREAM) with the headers
`streamType` (`error` or `data`), `port` and `requestID`; the server answers each with SYN_REPLY,
relays the data stream to the pod's port and ends both with FIN, writing on the error stream
what went wrong, if anything. Header blocks are zlib-compressed, one compression context per
direction for the whole connection, primed with the dictionary of the SPDY/3 specification.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
RST_PROTOCOL_ERROR, RST_REFUSED_STREAM, RST_CANCEL = 1, 3, 5
MAX_DATA = (1 << 24) - 1

# The SPDY/3 header dictionary: length-prefixed header words, then a run of common values.
_WORDS = (
    "options",
    "head",
    "post",
    "put",
    "delete",
    "trace",
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "accept-ranges",
    "age",
    "allow",
    "authorization",
    "cache-control",
    "connection",
    "content-base",
    "content-encoding",
    "content-language",
    "content-length",
    "content-location",
    "content-md5",
    "content-range",
    "content-type",
    "date",
    "etag",
    "expect",
    "expires",
    "from",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "last-modified",
    "location",
    "max-forwards",
    "pragma",
    "proxy-authenticate",
    "proxy-authorization",
    "range",
    "referer",
    "retry-after",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "vary",
    "via",
    "warning",
    "www-authenticate",
    "method",
    "get",
    "status",
    "200 OK",
    "version",
    "HTTP/1.1",
    "url",
    "public",
    "set-cookie",
    "keep-alive",
    "origin",
)
_VALUES = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
    "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
    "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 "
    "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
DICTIONARY = b"".join(struct.pack(">I", len(word)) + word.encode() for word in _WORDS) + _VALUES.encode()


class SpdyError(Exception):
    """The peer sent something this server cannot read as SPDY/3.1."""


@dataclass(frozen=True)
class Control:
    kind: int
    flags: int
    payload: bytes


@dataclass(frozen=True)
class Data:
    stream_id: int
    flags: int
    data: bytes

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)


class FrameReader:
    """Cuts the byte stream into frames, whatever sizes its pieces come in."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, chunk: bytes) -> list[Control | Data]:
        self.buffer += chunk
        frames: list[Control | Data] = []
        while len(self.buffer) >= 8:
            length = int.from_bytes(self.buffer[5:8], "big")
            if len(self.buffer) < 8 + length:
                break
            head, payload = self.buffer[:8], self.buffer[8 : 8 + length]
            self.buffer = self.buffer[8 + length :]
            first, flags = int.from_bytes(head[:4], "big"), head[4]
            if first & 0x80000000:
                version, kind = (first >> 16) & 0x7FFF, first & 0xFFFF
                if version != VERSION:
                    raise SpdyError(f"SPDY version {version} is not spoken here (3 is)")
                frames.append(Control(kind, flags, payload))
            else:
                frames.append(Data(first & 0x7FFFFFFF, flags, payload))
        return frames


class HeaderCodec:
    """The two compression contexts of one connection: what the client sent, what we send."""

    def __init__(self) -> None:
        self.inflater = zlib.decompressobj(zdict=DICTIONARY)
        self.deflater = zlib.compressobj(9, zdict=DICTIONARY)

    def decode(self, block: bytes) -> dict[str, str]:
        try:
            raw = self.inflater.decompress(block)
        except zlib.error as error:
            raise SpdyError(f"header block: {error}") from error
        headers, offset = {}, 4
        try:
            (count,) = struct.unpack_from(">I", raw, 0)
            for _ in range(count):
                (size,) = struct.unpack_from(">I", raw, offset)
                name = raw[offset + 4 : offset + 4 + size].decode("latin-1").lower()
                offset += 4 + size
                (size,) = struct.unpack_from(">I", raw, offset)
                headers[name] = raw[offset + 4 : offset + 4 + size].decode("latin-1")
                offset += 4 + size
        except struct.error as error:
            raise SpdyError("header block ends early") from error
        return headers

    def encode(self, headers: dict[str, str]) -> bytes:
        raw = struct.pack(">I", len(headers))
        for name, value in headers.items():
            raw += struct.pack(">I", len(name)) + name.lower().encode() + struct.pack(">I", len(value)) + value.encode()
        return self.deflater.compress(raw) + self.deflater.flush(zlib.Z_SYNC_FLUSH)


def _control(kind: int, flags: int, payload: bytes) -> bytes:
    return struct.pack(">HHB", 0x8000 | VERSION, kind, flags) + len(payload).to_bytes(3, "big") + payload


def syn_stream_of(frame: Control, codec: HeaderCodec) -> tuple[int, dict[str, str]]:
    """(stream id, headers) of a SYN_STREAM frame."""
    if len(frame.payload) < 10:
        raise SpdyError("SYN_STREAM too short")
    stream_id = int.from_bytes(frame.payload[:4], "big") & 0x7FFFFFFF
    return stream_id, codec.decode(frame.payload[10:])


def syn_reply(stream_id: int, codec: HeaderCodec, headers: dict[str, str] | None = None) -> bytes:
    return _control(SYN_REPLY, 0, struct.pack(">I", stream_id) + codec.encode(headers or {}))


def data(stream_id: int, payload: bytes, *, fin: bool = False) -> bytes:
    """One or more DATA frames carrying `payload` (FIN on the last when asked)."""
    pieces = [payload[i : i + MAX_DATA] for i in range(0, len(payload), MAX_DATA)] or [b""]
    frames = b""
    for index, piece in enumerate(pieces):
        flags = FLAG_FIN if fin and index == len(pieces) - 1 else 0
        frames += struct.pack(">IB", stream_id, flags) + len(piece).to_bytes(3, "big") + piece
    return frames


def rst_stream(stream_id: int, status: int) -> bytes:
    return _control(RST_STREAM, 0, struct.pack(">II", stream_id, status))


def stream_id_of(frame: Control) -> int:
    """The stream a RST_STREAM or WINDOW_UPDATE frame is about."""
    return int.from_bytes(frame.payload[:4], "big") & 0x7FFFFFFF


def ping_echo(frame: Control) -> bytes:
    """A PING goes back as it came: the peer measures the round trip."""
    return _control(PING, 0, frame.payload[:4])
