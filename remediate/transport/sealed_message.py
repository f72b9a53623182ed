"""The client's side of WinRM's encrypted message framing ([MS-WSMV] 2.2.9.1.1, Negotiate).

One message is one part of a `multipart/encrypted` body::

    --Encrypted Boundary\\r\\n
    \\tContent-Type: application/HTTP-SPNEGO-session-encrypted\\r\\n
    \\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<plain bytes>\\r\\n
    --Encrypted Boundary\\r\\n
    \\tContent-Type: application/octet-stream\\r\\n
    <signature length, 4 bytes little-endian><signature><sealed bytes>--Encrypted Boundary--\\r\\n

NTLM seals with RC4, a stream cipher: the sealed bytes are exactly as many as the plain ones,
so the OriginalContent Length says where they end. An answer is read in one pass, each part
checked (lengths, boundaries, the signature by the context's unwrap): anything else is refused.
The lab has its own reader and writer of this framing (it may not import the toolkit); each
checks the other in the tests.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

__all__ = ["SealedMessageError", "seal", "sealed_protocol", "unseal"]

_BOUNDARY = b"--Encrypted Boundary"
_DELIMITER = _BOUNDARY + b"\r\n"
_CLOSING = _BOUNDARY + b"--\r\n"
_OCTETS = b"\tContent-Type: application/octet-stream\r\n"
_PROTOCOLS = {"ntlm": "application/HTTP-SPNEGO-session-encrypted"}


class SealedMessageError(Exception):
    """A sealed answer that is not what [MS-WSMV] 2.2.9.1.1 describes."""


def sealed_protocol(auth: str) -> str:
    return _PROTOCOLS[auth]


def seal(
    wrap: Callable[[bytes], tuple[bytes, bytes]], message: bytes, protocol: str
) -> tuple[bytes, str]:
    """`message` sealed in one part, and the Content-Type naming the protocol."""
    signature, sealed = wrap(message)
    body = b"".join(
        (
            _DELIMITER,
            b"\tContent-Type: ",
            protocol.encode("ascii"),
            b"\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=",
            str(len(message)).encode("ascii"),
            b"\r\n",
            _DELIMITER,
            _OCTETS,
            struct.pack("<I", len(signature)),
            signature,
            sealed,
            _CLOSING,
        )
    )
    return body, f'multipart/encrypted;protocol="{protocol}";boundary="Encrypted Boundary"'


def unseal(unwrap: Callable[[bytes, bytes], bytes], body: bytes, protocol: str) -> bytes:
    """The plain text of a sealed answer, its parts joined; SealedMessageError if malformed."""
    plain: list[bytes] = []
    position = 0
    part = 0
    while True:
        part += 1
        length, position = _open_part(body, position, part, protocol)
        if len(body) < position + 4:
            raise SealedMessageError(f"part {part}: cut before its signature")
        (signature_length,) = struct.unpack_from("<I", body, position)
        start = position + 4 + signature_length
        end = start + length
        if signature_length > 1024 or len(body) < end:
            raise SealedMessageError(f"part {part}: shorter than its stated length")
        text = unwrap(body[position + 4 : start], body[start:end])
        if len(text) != length:
            raise SealedMessageError(f"part {part}: {len(text)} plain bytes, {length} stated")
        plain.append(text)
        if body.startswith(_CLOSING, end) and not body[end + len(_CLOSING) :].strip():
            return b"".join(plain)
        if not body.startswith(_DELIMITER, end):
            raise SealedMessageError(f"part {part}: no boundary after its data")
        position = end


def _open_part(body: bytes, position: int, part: int, protocol: str) -> tuple[int, int]:
    """At a part's first boundary: its plain length and where its payload begins."""
    if not body.startswith(_DELIMITER, position):
        raise SealedMessageError(f"part {part}: no boundary at byte {position}")
    header_start = position + len(_DELIMITER)
    header_end = body.find(_DELIMITER, header_start)
    if header_end < 0:
        raise SealedMessageError(f"part {part}: no boundary before its data")
    header = body[header_start:header_end].decode("latin-1")
    if protocol.lower() not in header.lower():
        raise SealedMessageError(f"part {part}: not sealed with {protocol}")
    marker = header.find("Length=")
    digits = header[marker + 7 :].split(";", 1)[0].strip() if marker >= 0 else ""
    if not digits.isdigit():
        raise SealedMessageError(f"part {part}: no OriginalContent Length")
    payload = header_end + len(_DELIMITER)
    if not body.startswith(_OCTETS, payload):
        raise SealedMessageError(f"part {part}: no 'Content-Type: application/octet-stream'")
    return int(digits), payload + len(_OCTETS)
