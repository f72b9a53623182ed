"""Server side of CredSSP on `/wsman` (the lab): authentication, delegation, message encryption.

CredSSP is what a WinRM client uses when a step needs a second hop (an installer on a share):
the user's password itself is delegated to the host, inside TLS, after an inner SPNEGO
(NTLM here) proves the user ([MS-CSSP] 3.1.5). pyspnego (0.12) has the acceptor
(`spnego.server(protocol="credssp")`); its inner NTLM looks passwords up through the lab's
per-acceptor hook (see `remediate.lab.protocols.ntlm.credentials_from`), so every simulated
host keeps its own users. The lab also checks what was delegated: a client that proves one
password and delegates another is refused, which Windows would only notice at the second hop.

HTTP exchange (requests-credssp 2.0, pywinrm's `transport="credssp"`): every leg is
`Authorization: CredSSP <base64 TLS records>`; the host answers `401` with
`WWW-Authenticate: CredSSP <base64>` until the client's last leg (TSRequest.authInfo, the
delegated credentials), which is served (`200`). Windows offers CredSSP only when the service's
`Auth/CredSSP` is true (off by default: "Enable-WSManCredSSP -Role Server").

Message encryption ([MS-WSMV] 2.2.9.1.3, CredSSP Encrypted Message): the protocol is
`application/HTTP-CredSSP-session-encrypted`; each part is `<uint32 LE trailer length><TLS
application-data records>` and `OriginalContent: ...;Length=` is the plaintext's length. A
message over 16 KiB is cut into 16 KiB chunks, one part each, under `multipart/x-multi-encrypted`
(the lab answers the same way). The TLS records carry their own lengths (RFC 8446 5.1, RFC 5246
6.2), so the lab reads each part by its records, never by searching for a boundary.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from typing import Any

import spnego

from remediate.lab.protocols.ntlm import (
    CREDSSP_OFFER,
    AuthFailed,
    AuthStep,
    PasswordLookup,
    credentials_from,
)
from remediate.lab.protocols.sealed_body import (
    EncryptionError,
    check_content_type,
    next_part,
    open_part,
    seal,
)

__all__ = ["CREDSSP_PROTOCOL", "CredSSPAcceptor"]

CREDSSP_PROTOCOL = "application/HTTP-CredSSP-session-encrypted"
CHUNK = 16 * 1024  # [MS-WSMV] 2.2.9.1.3: "the message MUST be split into 16-KB chunks"
_TLS_APPLICATION_DATA = 0x17
_TLS_HEADER = 5


@dataclass(frozen=True)
class Delegated:
    """What the client delegated: the account (never the password, which is only compared)."""

    domain: str
    username: str


class CredSSPAcceptor:
    """CredSSP for ONE TCP connection: its TLS channel is the session's encryption."""

    def __init__(self, password_for: PasswordLookup, *, default_domain: str = "") -> None:
        self._password_for = password_for
        self._default_domain = default_domain
        self._context: Any = None
        self._complete = False
        self._username: str | None = None
        self.delegated: Delegated | None = None
        self.refused = False  # the last leg carried the host's "logon denied" to the client

    @property
    def complete(self) -> bool:
        return self._complete

    @property
    def username(self) -> str | None:
        return self._username

    def step(self, authorization: str) -> AuthStep:
        """One `Authorization: CredSSP <b64>` leg; AuthFailed on anything the host refuses."""
        token = _token(authorization)
        if self._context is None or self._complete:
            self._reset()
            self._context = spnego.server(
                protocol="credssp",
                # pyspnego's own SPNEGO and NTLM for the inner authentication: the password hook
                # only covers its pure-Python NTLM.
                options=spnego.NegotiateOptions.use_negotiate | spnego.NegotiateOptions.use_ntlm,
            )
        try:
            with credentials_from(self._password_for):
                out_token = self._context.step(token)
        except AuthFailed:
            self._reset()
            raise
        except Exception as exc:  # untrusted input: any TLS/ASN.1/NTLM error refuses the logon
            self._reset()
            raise AuthFailed(f"CredSSP authentication failed: {exc}") from exc
        if not self._context.complete:
            # [MS-CSSP] 2.2.1: from version 3 the acceptor answers a failed inner logon with a
            # TSRequest errorCode (pyspnego's stage "Authentication failure"); the client
            # reads it and stops, so this handshake is over.
            self.refused = self._context.get_extra_info("auth_stage") == "Authentication failure"
            if not out_token:
                # pyspnego sends an error TSRequest (or nothing) when the inner logon failed
                self._reset()
                raise AuthFailed("CredSSP: the inner authentication was refused")
            header = f"{CREDSSP_OFFER} {base64.b64encode(out_token).decode()}"
            return AuthStep(done=False, www_authenticate=header, username=None)
        self._check_delegation()
        self._complete = True
        return AuthStep(done=True, www_authenticate=None, username=self._username)

    def unwrap(self, body: bytes, content_type: str) -> bytes:
        """The SOAP of a CredSSP-sealed body (one part, or 16 KiB chunks in several)."""
        if not self._complete:
            raise EncryptionError("no CredSSP session on this connection")
        multi = check_content_type(content_type, (CREDSSP_PROTOCOL,))
        plaintext = bytearray()
        for index, (length, records) in enumerate(_split_parts(body, allow_many=multi)):
            try:
                data = self._context.unwrap(records).data
            except Exception as exc:
                self._reset()
                raise EncryptionError(f"part {index}: TLS decryption failed ({exc})") from exc
            if len(data) != length:
                raise EncryptionError(
                    f"part {index}: OriginalContent Length={length}, decrypted {len(data)} bytes"
                )
            plaintext += data
        return bytes(plaintext)

    def wrap(self, payload: bytes, *, charset: str = "UTF-8") -> tuple[bytes, str]:
        """Seal a response as Windows does: 16 KiB chunks, `x-multi-encrypted` past one."""
        if not self._complete:
            raise EncryptionError("no CredSSP session on this connection")
        chunks = [payload[i : i + CHUNK] for i in range(0, len(payload), CHUNK)] or [b""]
        parts = []
        for chunk in chunks:
            result = self._context.wrap_winrm(chunk)
            parts.append(
                (len(chunk), struct.pack("<I", len(result.header)) + result.header + result.data)
            )
        return seal(CREDSSP_PROTOCOL, parts, charset)

    def _check_delegation(self) -> None:
        """The delegated password must be the user's: the second hop would use it."""
        credential = self._context.get_extra_info("client_credential")
        username = getattr(credential, "username", None)
        password = getattr(credential, "password", None)
        domain = getattr(credential, "domain_name", None) or ""
        if username is None or password is None:
            self._reset()
            raise AuthFailed("CredSSP: no password was delegated (smart card or Kerberos only)")
        expected = self._password_for(domain, username)
        if expected is None or expected != password:
            self._reset()
            raise AuthFailed(f"CredSSP: the delegated password of {username} is not the user's")
        self.delegated = Delegated(domain=domain, username=username)
        who = self._context.client_principal or username
        if self._default_domain and "\\" not in who and "@" not in who:
            who = f"{self._default_domain}\\{who}"
        self._username = who

    def _reset(self) -> None:
        self.refused = False
        self._context = None
        self._complete = False
        self._username = None
        self.delegated = None


def _token(authorization: str) -> bytes:
    scheme, _, data = authorization.strip().partition(" ")
    if scheme.lower() != "credssp":
        raise AuthFailed(f"unsupported Authorization scheme {scheme!r}")
    try:
        token = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AuthFailed("CredSSP token is not valid base64") from exc
    if not token:
        raise AuthFailed("empty CredSSP token")
    return token


def _split_parts(body: bytes, *, allow_many: bool) -> list[tuple[int, bytes]]:
    """`(OriginalContent Length, TLS records)` per part, each part read by its records."""
    parts: list[tuple[int, bytes]] = []
    pos = 0
    while True:
        index = len(parts)
        length, pos = open_part(body, pos, index, (CREDSSP_PROTOCOL,))
        pos += 4  # the trailer length: the records say where they end
        start = pos
        while pos < len(body) and body[pos] == _TLS_APPLICATION_DATA:
            if len(body) < pos + _TLS_HEADER:
                raise EncryptionError(f"part {index}: truncated TLS record header")
            (record_length,) = struct.unpack_from(">H", body, pos + 3)
            pos += _TLS_HEADER + record_length
        if pos == start or pos > len(body):
            raise EncryptionError(f"part {index}: no complete TLS record")
        parts.append((length, body[start:pos]))
        after = next_part(body, pos, allow_many=allow_many)
        if after is None:
            raise EncryptionError(f"part {index}: its TLS records are not followed by a boundary")
        if after == "end":
            return parts
