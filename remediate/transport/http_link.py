"""One HTTP/1.1 keep-alive connection that POSTs and reads answers, and nothing else.

WinRM's client side of HTTP is small: POST to one path, read status, headers and a body sized
by Content-Length (or chunked). http.client reads each answer's headers through the email
package's parser, a tenth of a millisecond per answer and most of what remained of its cost
(yappi profile of bench/audit.py, issue 18); this reads them with `bytes.partition`. Every
limit is explicit, so a hostile or broken host cannot make us read forever or without bound:
lines of at most MAX_LINE bytes, at most MAX_HEADERS headers, bodies of at most MAX_BODY.
"""

from __future__ import annotations

import select
import socket
import ssl
from dataclasses import dataclass

__all__ = ["Answer", "HttpFormatError", "HttpLink"]

MAX_LINE = 64 * 1024
MAX_HEADERS = 128
MAX_BODY = 64 * 1024 * 1024


class HttpFormatError(Exception):
    """An answer that is not HTTP/1.x as RFC 9112 writes it (or is past our limits)."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]  # names lower-cased, in the order received
    body: bytes
    will_close: bool
    header_bytes: int

    def get(self, name: str, default: str = "") -> str:
        for key, value in self.headers:
            if key == name:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]


class HttpLink:
    """A connected socket (TLS or not) and its buffered reader."""

    def __init__(
        self,
        address: str,
        port: int,
        timeout: float,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        sock = socket.create_connection((address, port), timeout=timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:
                sock = tls.wrap_socket(sock, server_hostname=address)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self._reader = sock.makefile("rb", buffering=65536)

    def post(self, head: bytes, body: bytes) -> Answer:
        """Send `head` (request line and headers, without Content-Length and the blank line)
        with `body`; the answer, 1xx interim answers skipped."""
        self.sock.sendall(b"%sContent-Length: %d\r\n\r\n%s" % (head, len(body), body))
        while True:
            answer = self._answer()
            if not 100 <= answer.status < 200:
                return answer

    def idle_closed(self) -> bool:
        """Whether the host closed this idle connection: its socket is readable (end of file,
        or bytes nobody asked for) while no answer is due."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        self._reader.close()
        self.sock.close()

    def _line(self) -> bytes:
        line = self._reader.readline(MAX_LINE + 1)
        if not line:
            raise ConnectionResetError("the host closed the connection")
        if len(line) > MAX_LINE or not line.endswith(b"\n"):
            raise HttpFormatError("a line of the answer is too long or cut")
        return line

    def _answer(self) -> Answer:
        status_line = self._line()
        version, _, rest = status_line.partition(b" ")
        code = rest[:3]
        if not version.startswith(b"HTTP/1.") or not code.isdigit():
            raise HttpFormatError("the answer does not start with an HTTP/1.x status line")
        status = int(code)
        headers: list[tuple[str, str]] = []
        size = len(status_line)
        while True:
            line = self._line()
            size += len(line)
            if line in (b"\r\n", b"\n"):
                break
            name, colon, value = line.partition(b":")
            if not colon or not name or name != name.strip():
                raise HttpFormatError("a header line without a name and a colon")
            headers.append((name.decode("latin-1").lower(), value.strip().decode("latin-1")))
            if len(headers) > MAX_HEADERS:
                raise HttpFormatError(f"more than {MAX_HEADERS} headers")
        fields = tuple(headers)
        connection = ",".join(v for k, v in fields if k == "connection").lower()
        will_close = "close" in connection or (
            version == b"HTTP/1.0" and "keep-alive" not in connection
        )
        body = self._body(status, fields)
        if body is None:  # no length given: the body runs to the end of the connection
            body = self._reader.read(MAX_BODY + 1)
            will_close = True
        if len(body) > MAX_BODY:
            raise HttpFormatError(f"an answer of more than {MAX_BODY} bytes")
        return Answer(status, fields, body, will_close, size)

    def _body(self, status: int, fields: tuple[tuple[str, str], ...]) -> bytes | None:
        if 100 <= status < 200 or status in (204, 304):
            return b""
        encodings = [v.lower() for k, v in fields if k == "transfer-encoding"]
        if encodings:
            if encodings[-1].rsplit(",", 1)[-1].strip() != "chunked":
                return None
            return self._chunked()
        lengths = {v for k, v in fields if k == "content-length"}
        if not lengths:
            return None
        if len(lengths) > 1 or not next(iter(lengths)).isdigit():
            raise HttpFormatError("an invalid Content-Length")
        length = int(next(iter(lengths)))
        if length > MAX_BODY:
            raise HttpFormatError(f"an answer of more than {MAX_BODY} bytes")
        return self._exactly(length)

    def _chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size_text = self._line().split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise HttpFormatError("an invalid chunk size") from None
            if size == 0:
                break
            total += size
            if total > MAX_BODY:
                raise HttpFormatError(f"an answer of more than {MAX_BODY} bytes")
            parts.append(self._exactly(size))
            if self._line() not in (b"\r\n", b"\n"):
                raise HttpFormatError("a chunk not followed by its line end")
        while self._line() not in (b"\r\n", b"\n"):  # trailer fields, ignored
            pass
        return b"".join(parts)

    def _exactly(self, length: int) -> bytes:
        data = self._reader.read(length)
        if len(data) != length:
            raise ConnectionResetError("the answer was cut short")
        return data
