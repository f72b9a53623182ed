"""The framing of WinRM's encrypted messages ([MS-WSMV] 2.2.9.1), shared by the lab's acceptors.

A sealed body holds one part per message (or per 16 KiB chunk, CredSSP)::

    --Encrypted Boundary\\r\\n
    \\tContent-Type: <protocol>\\r\\n
    \\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<n>\\r\\n
    --Encrypted Boundary\\r\\n
    \\tContent-Type: application/octet-stream\\r\\n
    <payload>
    --Encrypted Boundary--\\r\\n

under `multipart/encrypted` (one part) or `multipart/x-multi-encrypted` (several), the protocol
also named in the Content-Type's parameters. What a payload holds, and so where it ends, each
acceptor reads itself (NTLM: a 16-byte signature then as many bytes as the plaintext; Kerberos:
a wrap-token header, then the ciphertext; CredSSP: TLS records); this module reads and writes
what is around it, and refuses anything else.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "BOUNDARY",
    "CLOSING",
    "DELIMITER",
    "EncryptionError",
    "check_content_type",
    "next_part",
    "open_part",
    "seal",
]

BOUNDARY = "Encrypted Boundary"
DELIMITER = f"--{BOUNDARY}\r\n".encode()
CLOSING = f"--{BOUNDARY}--\r\n".encode()
_OCTET_STREAM = b"Content-Type: application/octet-stream\r\n"
_TYPES = ("multipart/encrypted", "multipart/x-multi-encrypted")


class EncryptionError(Exception):
    """A sealed body is malformed, fails its signature check, or cannot be sealed/unsealed."""


def check_content_type(content_type: str, protocols: tuple[str, ...]) -> bool:
    """Validate a sealed body's Content-Type; True for `multipart/x-multi-encrypted`."""
    media, *raw_params = (item.strip() for item in content_type.split(";"))
    params: dict[str, str] = {}
    for item in raw_params:
        key, _, value = item.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    if media.lower() not in _TYPES:
        raise EncryptionError(f"Content-Type {media!r} is not multipart/encrypted")
    protocol = params.get("protocol", "")
    if protocol.lower() not in {p.lower() for p in protocols}:
        wanted = " or ".join(protocols)
        raise EncryptionError(f"unsupported encryption protocol {protocol!r} (want {wanted})")
    if params.get("boundary") != BOUNDARY:
        raise EncryptionError(f"boundary {params.get('boundary')!r} is not {BOUNDARY!r}")
    return media.lower() == "multipart/x-multi-encrypted"


def open_part(body: bytes, pos: int, index: int, protocols: tuple[str, ...]) -> tuple[int, int]:
    """At a part's first boundary: its OriginalContent Length and where its payload starts."""
    if not body.startswith(DELIMITER, pos):
        raise EncryptionError(f"part {index}: expected '--{BOUNDARY}' at offset {pos}")
    meta_end = body.find(DELIMITER, pos + len(DELIMITER))
    if meta_end < 0:
        raise EncryptionError(f"part {index}: missing boundary before the encrypted data")
    length = _original_length(body[pos + len(DELIMITER) : meta_end], index, protocols)
    pos = meta_end + len(DELIMITER)
    line_end = body.find(b"\r\n", pos)
    if line_end < 0 or body[pos : line_end + 2].lstrip(b" \t") != _OCTET_STREAM:
        raise EncryptionError(f"part {index}: missing 'Content-Type: application/octet-stream'")
    return length, line_end + 2


def next_part(body: bytes, pos: int, *, allow_many: bool) -> Literal["end", "next"] | None:
    """Right after a payload: the closing boundary ends the body (trailing blanks aside),
    another part may follow under multi-encrypted; None: the payload did not end here."""
    if body.startswith(CLOSING, pos) and not body[pos + len(CLOSING) :].strip():
        return "end"
    if allow_many and body.startswith(DELIMITER, pos):
        return "next"
    return None


def seal(
    protocol: str, parts: list[tuple[int, bytes]], charset: str = "UTF-8"
) -> tuple[bytes, str]:
    """A sealed body of `(OriginalContent Length, payload)` parts, and its Content-Type."""
    body = bytearray()
    for length, payload in parts:
        body += DELIMITER
        body += f"\tContent-Type: {protocol}\r\n".encode()
        body += (
            f"\tOriginalContent: type=application/soap+xml;charset={charset};Length={length}\r\n"
        ).encode()
        body += DELIMITER + b"\t" + _OCTET_STREAM + payload
    body += CLOSING
    media = "multipart/x-multi-encrypted" if len(parts) > 1 else "multipart/encrypted"
    return bytes(body), f'{media};protocol="{protocol}";boundary="{BOUNDARY}"'


def _original_length(meta: bytes, index: int, protocols: tuple[str, ...]) -> int:
    """The metadata part: its protocol Content-Type and the OriginalContent Length."""
    fields: dict[str, str] = {}
    for line in meta.split(b"\r\n"):
        name, sep, value = line.decode("latin-1").strip().partition(":")
        if sep:
            fields[name.strip().lower()] = value.strip()
    if fields.get("content-type", "").lower() not in {p.lower() for p in protocols}:
        raise EncryptionError(
            f"part {index}: metadata Content-Type {fields.get('content-type')!r} is not "
            f"{' or '.join(protocols)}"
        )
    original = fields.get("originalcontent")
    if original is None:
        raise EncryptionError(f"part {index}: missing OriginalContent header")
    for item in original.split(";"):
        key, _, value = item.strip().partition("=")
        if key.lower() == "length":
            if not value.isdigit():
                raise EncryptionError(f"part {index}: OriginalContent Length {value!r} invalid")
            return int(value)
    raise EncryptionError(f"part {index}: OriginalContent has no Length")
