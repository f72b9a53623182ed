"""Server side of Kerberos for the lab's WinRM listener: a domain member's HTTP.sys, in Python.

A lab host whose fleet has `kerberos` settings accepts Kerberos tickets as a Windows domain
member does:

- under ``Negotiate`` (RFC 4559 section 4) either SPNEGO (RFC 4178) whose first mech is
  Kerberos, or a bare Kerberos GSS token (RFC 4121 section 4.1; Windows accepts both, and
  pywinrm's requests_kerberos sends the bare one); and under the ``Kerberos`` scheme that
  Windows offers beside it (MS-WSMV 2.2.9.1: "Kerberos (as specified in [RFC4559] section 4)");
- only for THIS host's service principals: a ticket for another host's SPN is refused, as the
  other computer account's key cannot decrypt it on Windows (KRB_AP_ERR_MODIFIED). The keytab
  is the fleet's (every host's keys), so the check is made on the ticket's server name;
- with mutual authentication: the last leg's ``200`` carries ``WWW-Authenticate: Negotiate
  <AP-REP>`` (RFC 4559 section 5), which pywinrm requires before it trusts any response;
- with WinRM message encryption over HTTP (MS-WSMV 2.2.9.1.1 "Negotiate Encrypted Message",
  protocol ``application/HTTP-SPNEGO-session-encrypted``; under the ``Kerberos`` scheme
  2.2.9.1.2.1, ``application/HTTP-Kerberos-session-encrypted``; pywinrm sends the SPNEGO one
  and ignores a sealed answer under any other): ``multipart/encrypted`` parts whose octet stream is
  ``<uint32 LE header length><RFC 4121 wrap token header><ciphertext>`` (2.2.9.1.1.2.2: "For
  Kerberos, it MUST be the per-message token as specified in [RFC4121]"), made with
  gss_wrap_iov (header, data, padding; wrap tokens of RFC 4121 section 4.2.6.2) so the
  ciphertext stays apart.

The service keys come from the keytab named in the fleet file, passed to GSSAPI through a
credential store (gss_acquire_cred_from), never through the process' KRB5_KTNAME. python-gssapi
is imported only when a fleet has Kerberos settings, so the lab runs without it otherwise.
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from remediate.lab.protocols.ntlm import (
    KERBEROS_OFFER,
    NEGOTIATE_OFFER,
    SPNEGO_PROTOCOL,
    AuthFailed,
    AuthStep,
)
from remediate.lab.protocols.sealed_body import (
    EncryptionError,
    check_content_type,
    next_part,
    open_part,
    seal,
)

__all__ = [
    "KERBEROS_PROTOCOL",
    "KerberosAcceptor",
    "KerberosService",
    "KerberosUnavailable",
    "Mechanism",
    "token_mechanism",
]

KERBEROS_PROTOCOL = "application/HTTP-Kerberos-session-encrypted"
_PROTOCOLS = (SPNEGO_PROTOCOL, KERBEROS_PROTOCOL)
_MAX_HEADER = 1024  # an RFC 4121 wrap header is 60 bytes or so with AES; more is garbage

# DER-encoded OBJECT IDENTIFIERs (tag, length, value) of the mechanisms a Negotiate token names.
_OID_KRB5 = bytes.fromhex("06092a864886f712010202")  # 1.2.840.113554.1.2.2 (RFC 1964)
_OID_MS_KRB5 = bytes.fromhex("06092a864882f712010202")  # 1.2.840.48018.1.2.2 (Windows' alias)
_OID_SPNEGO = bytes.fromhex("06062b0601050502")  # 1.3.6.1.5.5.2 (RFC 4178)
_OID_NTLM = bytes.fromhex("060a2b06010401823702020a")  # 1.3.6.1.4.1.311.2.2.10

Mechanism = Literal["kerberos", "ntlm", "continuation", "unknown"]


class KerberosUnavailable(Exception):
    """The host cannot accept Kerberos (python-gssapi missing, keytab unreadable)."""


# --- which mechanism a token is -------------------------------------------------------------


def token_mechanism(token: bytes) -> Mechanism:
    """Classify the first token of a handshake, or a continuation of one.

    A raw NTLMSSP message is NTLM; a GSS InitialContextToken (RFC 2743 section 3.1, tag 0x60)
    names its mech: Kerberos, or SPNEGO whose NegTokenInit lists the initiator's preferred
    mech first (RFC 4178 section 4.2.1) and carries that mech's optimistic token. Anything
    else (a NegTokenResp, 0xA1) continues the handshake in progress on the connection.
    """
    if token.startswith(b"NTLMSSP\x00"):  # MS-NLMP 2.2.1: MessageType 1 is NEGOTIATE_MESSAGE
        return "ntlm" if token[8:12] == b"\x01\x00\x00\x00" else "continuation"
    if token[:1] == b"\xa1":
        return "continuation"
    if token[:1] == b"\xa0":  # a bare NegTokenInit, without the GSS framing
        return _first_mech(token)
    if token[:1] != b"\x60":
        return "unknown"
    inner = _der_value(token, 0)
    if inner is None:
        return "unknown"
    start, end = inner
    if token.startswith((_OID_KRB5, _OID_MS_KRB5), start):
        return "kerberos"
    if token.startswith(_OID_SPNEGO, start):
        return _first_mech(token[start + len(_OID_SPNEGO) : end])
    return "unknown"


def _first_mech(neg_token_init: bytes) -> Mechanism:
    """The first OID of NegTokenInit's mechTypes: [0] SEQUENCE { [0] SEQUENCE OF OID ... }."""
    outer = _der_value(neg_token_init, 0)  # [0] NegTokenInit
    if outer is None or neg_token_init[:1] != b"\xa0":
        return "unknown"
    sequence = _der_value(neg_token_init, outer[0])  # SEQUENCE
    if sequence is None or neg_token_init[outer[0] : outer[0] + 1] != b"\x30":
        return "unknown"
    mech_types = _der_value(neg_token_init, sequence[0])  # [0] mechTypes
    if mech_types is None or neg_token_init[sequence[0] : sequence[0] + 1] != b"\xa0":
        return "unknown"
    oids = _der_value(neg_token_init, mech_types[0])  # SEQUENCE OF MechType
    if oids is None:
        return "unknown"
    first = oids[0]
    if neg_token_init.startswith((_OID_KRB5, _OID_MS_KRB5), first):
        return "kerberos"
    if neg_token_init.startswith(_OID_NTLM, first):
        return "ntlm"
    return "unknown"


def _der_value(data: bytes, offset: int) -> tuple[int, int] | None:
    """(start, end) of the value of the DER element at `offset`, or None when malformed."""
    if offset + 2 > len(data):
        return None
    length = data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            return None
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    return (start, end) if end <= len(data) else None


# --- the host's side: keys and names --------------------------------------------------------


@dataclass
class KerberosService:
    """What one host needs to accept tickets: the keytab, its SPNs, the user it admits.

    The credential is acquired once (gss_acquire_cred_from with ``{"keytab": path}``) and
    shared by the host's connections; :meth:`check` acquires it at lab start, so a missing
    keytab is an error then, not a 401 later.
    """

    keytab: Path
    realm: str
    service_principals: Sequence[str]
    admitted_user: str
    _credentials: Any = field(default=None, repr=False)

    @property
    def netbios_domain(self) -> str:
        """`LAB` for `LAB.LOCAL`: how Windows names the user (`LAB\\alice`)."""
        return self.realm.split(".")[0]

    def check(self) -> None:
        """Acquire the acceptor credential now; KerberosUnavailable when it cannot be."""
        self.credentials()

    def credentials(self) -> Any:
        if self._credentials is None:
            gssapi = _gssapi()
            if not self.keytab.is_file():
                raise KerberosUnavailable(f"keytab {self.keytab} does not exist")
            try:
                self._credentials = gssapi.Credentials(
                    usage="accept", store={"keytab": str(self.keytab)}
                )
            except gssapi.exceptions.GSSError as exc:
                raise KerberosUnavailable(f"keytab {self.keytab}: {_gss_text(exc)}") from None
        return self._credentials

    def is_own(self, principal: str) -> bool:
        """Whether a ticket's server principal is one of this host's SPNs (case-insensitive,
        as Windows matches SPNs)."""
        return principal.lower() in {spn.lower() for spn in self.service_principals}

    def windows_user(self, principal: str) -> str | None:
        """`LAB\\alice` for `alice@LAB.LOCAL` when that user is admitted here, else None."""
        name, _, realm = principal.rpartition("@")
        if realm.upper() != self.realm.upper() or "/" in name:
            return None
        if name.lower() != self.admitted_user.lower():
            return None
        return f"{self.netbios_domain}\\{name}"


def _gssapi() -> Any:
    try:
        import gssapi
    except ImportError:
        raise KerberosUnavailable(
            "python-gssapi is not installed (pip install 'remediate[kerberos]')"
        ) from None
    return gssapi


def _gss_text(exc: Exception) -> str:
    """The GSS minor status text ("Clock skew too great") without the major boilerplate."""
    minor = getattr(exc, "gen_message", None)
    text = minor() if callable(minor) else str(exc)
    return " ".join(str(text).split())


# --- one connection -------------------------------------------------------------------------


class KerberosAcceptor:
    """Server side of a Kerberos (or SPNEGO-Kerberos) handshake for ONE TCP connection."""

    def __init__(self, service: KerberosService, *, channel_bindings: bytes | None = None) -> None:
        """`channel_bindings`: the application data of RFC 5929 `tls-server-end-point`
        bindings over HTTPS (checked when the client sends bindings, as Windows' default
        CbtHardeningLevel "Relaxed" does), None over HTTP."""
        self._service = service
        self._channel_bindings = channel_bindings
        self._context: Any = None
        self._scheme = NEGOTIATE_OFFER
        self._complete = False
        self._username: str | None = None

    @property
    def complete(self) -> bool:
        return self._complete

    @property
    def username(self) -> str | None:
        """`LAB\\alice` once the handshake succeeded."""
        return self._username

    @property
    def scheme(self) -> str:
        """`Negotiate` or `Kerberos`: what the client authenticated with."""
        return self._scheme

    def step(self, authorization: str) -> AuthStep:
        """Process one `Authorization: Negotiate|Kerberos <b64>` value; AuthFailed on a bad
        token, a ticket refused by GSSAPI (skew, replay, bad key), another host's ticket or a
        user who is not admitted here."""
        scheme, token = _parse_authorization(authorization)
        gssapi = _gssapi()
        if token_mechanism(token) != "continuation":
            self._reset()
            self._scheme = scheme
            bindings = None
            if self._channel_bindings is not None:
                bindings = gssapi.raw.ChannelBindings(application_data=self._channel_bindings)
            self._context = gssapi.SecurityContext(
                creds=self._service.credentials(), usage="accept", channel_bindings=bindings
            )
        elif self._context is None or self._complete:
            self._reset()
            raise AuthFailed("continuation token without a Kerberos handshake in progress")
        try:
            out_token = self._context.step(token)
            # python-gssapi returns the KRB-ERROR token of a refused ticket and raises the
            # error on the next use of the context: ask now, so it is raised here.
            complete = self._context.complete
        except gssapi.exceptions.GSSError as exc:
            self._reset()
            raise AuthFailed(f"{scheme} (Kerberos) refused: {_gss_text(exc)}") from None
        header = f"{self._scheme} {base64.b64encode(out_token).decode()}" if out_token else None
        if complete:
            self._finish()
        return AuthStep(done=self._complete, www_authenticate=header, username=self._username)

    def _finish(self) -> None:
        target = str(self._context.target_name)
        client = str(self._context.initiator_name)
        if not self._service.is_own(target):
            self._reset()
            raise AuthFailed(f"ticket is for {target}, not for this host")
        user = self._service.windows_user(client)
        if user is None:
            self._reset()
            raise AuthFailed(f"{client} is not admitted on this host")
        self._complete = True
        self._username = user

    def unwrap(self, body: bytes, content_type: str) -> bytes:
        """Decrypt a sealed request body; EncryptionError on bad framing or a bad token (the
        context is then discarded: its sequence numbers can no longer be trusted)."""
        if not self._complete:
            raise EncryptionError("no authenticated security context on this connection")
        multi = check_content_type(content_type, _PROTOCOLS)
        plaintext = bytearray()
        for index, (header, sealed) in enumerate(_split_parts(body, allow_many=multi)):
            try:
                plaintext += self._unwrap_one(header, sealed)
            except Exception as exc:  # untrusted input: any GSS failure is a bad message
                self._reset()
                raise EncryptionError(
                    f"part {index}: Kerberos unwrap failed ({_gss_text(exc)}); "
                    "security context discarded"
                ) from None
        return bytes(plaintext)

    def wrap(self, payload: bytes, *, charset: str = "UTF-8") -> tuple[bytes, str]:
        """Seal a response: `(body, Content-Type value)` as MS-WSMV 2.2.9.1.1 lays it out."""
        if not self._complete:
            raise EncryptionError("no authenticated security context on this connection")
        gssapi = _gssapi()
        raw = gssapi.raw
        iov = raw.IOV(
            raw.IOVBufferType.header, payload, raw.IOVBufferType.padding, std_layout=False
        )
        try:
            raw.wrap_iov(self._context, iov, confidential=True)
        except gssapi.exceptions.GSSError as exc:
            raise EncryptionError(f"sealing failed: {_gss_text(exc)}") from None
        header, data, padding = (bytes(buffer.value or b"") for buffer in iov)
        sealed = struct.pack("<I", len(header)) + header + data + padding
        return seal(self._protocol(), [(len(payload) + len(padding), sealed)], charset)

    # -- internals --

    def _protocol(self) -> str:
        return KERBEROS_PROTOCOL if self._scheme == KERBEROS_OFFER else SPNEGO_PROTOCOL

    def _unwrap_one(self, header: bytes, sealed: bytes) -> bytes:
        raw = _gssapi().raw
        iov = raw.IOV(
            (raw.IOVBufferType.header, False, header),
            sealed,
            raw.IOVBufferType.data,
            std_layout=False,
        )
        raw.unwrap_iov(self._context, iov)
        return bytes(iov[1].value or b"")

    def _reset(self) -> None:
        self._context = None
        self._complete = False
        self._username = None


# --- parsing helpers ------------------------------------------------------------------------


def _parse_authorization(authorization: str) -> tuple[str, bytes]:
    scheme, _, data = authorization.strip().partition(" ")
    canonical = {"negotiate": NEGOTIATE_OFFER, "kerberos": KERBEROS_OFFER}.get(scheme.lower())
    if canonical is None:
        raise AuthFailed(f"unsupported Authorization scheme {scheme!r} for Kerberos")
    try:
        token = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise AuthFailed(f"{canonical} token is not valid base64") from None
    if not token:
        raise AuthFailed(f"empty {canonical} token")
    return canonical, token


def _split_parts(body: bytes, *, allow_many: bool) -> list[tuple[bytes, bytes]]:
    """`(wrap token header, ciphertext)` per part; one pass over the body.

    With AES (RFC 3962 CTS) the ciphertext is as long as the plaintext, so OriginalContent's
    Length delimits it and the next (or closing) boundary must follow at once.
    """
    parts: list[tuple[bytes, bytes]] = []
    pos = 0
    while True:
        index = len(parts)
        length, pos = open_part(body, pos, index, _PROTOCOLS)
        if len(body) < pos + 4:
            raise EncryptionError(f"part {index}: truncated before the header length")
        (header_length,) = struct.unpack_from("<I", body, pos)
        pos += 4
        if header_length > _MAX_HEADER or pos + header_length + length > len(body):
            raise EncryptionError(f"part {index}: header length {header_length} does not fit")
        header = body[pos : pos + header_length]
        pos += header_length
        parts.append((header, body[pos : pos + length]))
        pos += length
        after = next_part(body, pos, allow_many=allow_many)
        if after is None:
            raise EncryptionError(
                f"part {index}: the ciphertext is not followed by the closing boundary "
                "(OriginalContent Length does not match)"
            )
        if after == "end":
            return parts
