"""Server side of HTTP Negotiate/NTLM authentication and WinRM message encryption (the lab).

One :class:`NegotiateAcceptor` lives per TCP connection: NTLM authenticates the connection, not
the request, and the sealing keys (RC4 streams + sequence numbers) are per connection too.
Passwords come from a per-acceptor ``password_for(domain, user)`` callback, so every simulated
host keeps its own users; pyspnego's ``NTLM_USER_FILE`` is never consulted (see
:func:`_install_pyspnego_credential_hook`).

HTTP exchange (Windows WinRM, HTTP listener, as pywinrm 0.5 and pypsrp 0.9 drive it)
--------------------------------------------------------------------------------------
1. ``POST /wsman`` without ``Authorization`` -> ``401``, empty body (``Content-Length: 0``) and
   one ``WWW-Authenticate`` header per enabled scheme, in Windows order ``Negotiate``,
   ``Kerberos``, ``Basic realm="WSMAN"``, ``CredSSP`` (defaults: Negotiate + Kerberos; see
   :func:`initial_challenge`). Windows does not offer a bare ``NTLM`` scheme on /wsman.
2. Same request + ``Authorization: Negotiate <NEGOTIATE_MESSAGE>`` -> ``401``, empty body,
   ``WWW-Authenticate: Negotiate <CHALLENGE_MESSAGE>``.
3. Same request + ``Authorization: Negotiate <AUTHENTICATE_MESSAGE>`` -> ``200`` (the request is
   served) or ``401`` with the bare offers of step 1 on a wrong password / unknown user.

Both clients send ``Connection: Keep-Alive`` and resend the *same* request (same body) on every
leg; the server must answer each leg on the same connection and must read (and ignore) the body
of the legs that end in 401.

- pywinrm (``transport="ntlm"``, via requests_ntlm 1.3) prefers the ``NTLM`` scheme only if the
  401 names it, else uses ``Negotiate``; either way the tokens are *raw* NTLMSSP messages (no
  SPNEGO). So the 200 of step 3 carries no ``WWW-Authenticate``. With message encryption
  (default over HTTP) it first sends an empty ``POST`` (``Content-Length: 0``, ``Content-Type:
  application/soap+xml;charset=UTF-8``) through steps 1-3 and needs a 2xx for it (Windows: 200,
  empty body); only then are SOAP requests sent, encrypted and without ``Authorization``.
- pypsrp (``auth="negotiate"``, the default) wraps NTLM in SPNEGO: step 2 carries a
  ``NegTokenInit`` (mechTypes = [NTLM] without gssapi), step 3 a ``NegTokenResp`` holding the
  AUTHENTICATE message and a mechListMIC. Windows then answers the 200 with a final
  ``WWW-Authenticate: Negotiate oRswGaADCgEAoxIEEAEAAA...`` (NegTokenResp accept-completed + its
  own mechListMIC); pypsrp feeds that back into its context. ``auth="ntlm"`` sends raw NTLM under
  ``Negotiate`` like requests_ntlm. pypsrp also does the initial empty POST when encrypting (no
  ``Content-Type`` header on it).
- On a 401 to a request that has no ``Authorization`` (e.g. an encrypted request on a new
  connection), both clients re-run steps 2-3 with a *fresh* context but resend the body sealed
  with the *old* keys; it cannot be decrypted. Hence: keep connections alive, never close them
  after a response, and answer a sealed body on an unauthenticated connection with the 401 of
  step 1.

Message encryption (MS-WSMV 2.2.9.1.1, Negotiate Encrypted Message)
-------------------------------------------------------------------
Request and response use ``Content-Type:`` :data:`ENCRYPTED_CONTENT_TYPE` and the body::

    --Encrypted Boundary\\r\\n
    \\tContent-Type: application/HTTP-SPNEGO-session-encrypted\\r\\n
    \\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=<len(plaintext)>\\r\\n
    --Encrypted Boundary\\r\\n
    \\tContent-Type: application/octet-stream\\r\\n
    <uint32 LE signature length = 16><NTLM signature><RC4 ciphertext>--Encrypted Boundary--\\r\\n

(no CRLF between ciphertext and the closing boundary). ``multipart/x-multi-encrypted`` with
16 KiB chunks exists only for CredSSP (MS-WSMV 2.2.9.1.3); pywinrm and pypsrp send any size of
SPNEGO message as one ``multipart/encrypted`` part. :meth:`NegotiateAcceptor.unwrap` still
accepts several parts under ``multipart/x-multi-encrypted``; :meth:`~NegotiateAcceptor.wrap`
never produces it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import contextvars
import functools
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import spnego
import spnego._ntlm as _pyspnego_ntlm  # private: only for _install_pyspnego_credential_hook
from spnego._context import GSSMech  # private: the mech enum _prefer_ntlm ranks
from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1  # private: LM/NT one-way functions
from spnego.channel_bindings import GssChannelBindings

from remediate.lab.protocols.sealed_body import (
    BOUNDARY,
    CLOSING,
    DELIMITER,
    EncryptionError,
    check_content_type,
    next_part,
    open_part,
    seal,
)

__all__ = [
    "BASIC_OFFER",
    "CREDSSP_OFFER",
    "ENCRYPTED_CONTENT_TYPE",
    "KERBEROS_OFFER",
    "NEGOTIATE_OFFER",
    "SPNEGO_PROTOCOL",
    "AuthFailed",
    "AuthStep",
    "EncryptionError",
    "NegotiateAcceptor",
    "PasswordLookup",
    "credentials_from",
    "initial_challenge",
]

NEGOTIATE_OFFER = "Negotiate"
KERBEROS_OFFER = "Kerberos"
BASIC_OFFER = 'Basic realm="WSMAN"'
CREDSSP_OFFER = "CredSSP"

SPNEGO_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
ENCRYPTED_CONTENT_TYPE = f'multipart/encrypted;protocol="{SPNEGO_PROTOCOL}";boundary="{BOUNDARY}"'

_NTLM_SIGNATURE_LENGTH = 16

PasswordLookup = Callable[[str, str], str | None]
CredentialLookup = Callable[[str | None, str | None], tuple[str | None, str | None, bytes, bytes]]


class AuthFailed(Exception):
    """The client's token is invalid, or its user is unknown or gave the wrong password."""


@dataclass(frozen=True)
class AuthStep:
    """Outcome of one authentication leg."""

    done: bool
    www_authenticate: str | None
    username: str | None


def initial_challenge(
    *, negotiate: bool = True, kerberos: bool = True, basic: bool = False, credssp: bool = False
) -> list[str]:
    """``WWW-Authenticate`` values of the first 401, one header each, in Windows' order.

    Defaults mirror Windows' default service config (Negotiate and Kerberos on, Basic and
    CredSSP off). Offering Kerberos is harmless to pywinrm/pypsrp: both pick Negotiate.
    """
    enabled = (
        (negotiate, NEGOTIATE_OFFER),
        (kerberos, KERBEROS_OFFER),
        (basic, BASIC_OFFER),
        (credssp, CREDSSP_OFFER),
    )
    return [offer for on, offer in enabled if on]


# --- pyspnego credential hook --------------------------------------------------------------

_HOOK_STORE = "<remediate.lab.protocols.ntlm: per-acceptor credentials>"
_active_lookup: contextvars.ContextVar[CredentialLookup | None] = contextvars.ContextVar(
    "remediate_lab_ntlm_lookup", default=None
)


def _install_pyspnego_credential_hook() -> None:
    """Make pyspnego's NTLM acceptor ask the acceptor currently stepping for passwords.

    pyspnego (checked: 0.12.4) has no public way to hand credentials to an NTLM *acceptor*:
    ``NTLMProxy(usage="accept")`` refuses to start unless ``spnego._ntlm._get_credential_file()``
    finds ``NTLM_USER_FILE``, and it resolves each AUTHENTICATE message's user with
    ``spnego._ntlm._get_credential(store, domain, username) -> (domain, user, lm_hash, nt_hash)``.
    We wrap exactly those two private module functions. While :meth:`NegotiateAcceptor.step`
    runs, a ContextVar holds that acceptor's lookup and the wrappers answer from it; at any other
    time (or in another thread/task) the originals run unchanged. ``tests/lab/test_ntlm_auth.py``
    fails loudly if pyspnego renames or reshapes them.
    """
    module: Any = _pyspnego_ntlm
    for name in ("_get_credential_file", "_get_credential"):
        if not callable(getattr(module, name, None)):
            raise ImportError(
                f"installed pyspnego has no spnego._ntlm.{name}; "
                "remediate.lab.protocols.ntlm._install_pyspnego_credential_hook must be updated"
            )
    if getattr(module._get_credential, "_remediate_hook", False):
        return
    original_file = module._get_credential_file
    original_credential = module._get_credential

    def get_credential_file() -> str | None:
        if _active_lookup.get() is not None:
            return _HOOK_STORE
        return original_file()

    def get_credential(
        store: str | None, domain: str | None = None, username: str | None = None
    ) -> tuple[str | None, str | None, bytes, bytes]:
        lookup = _active_lookup.get()
        if store != _HOOK_STORE or lookup is None:
            return original_credential(store, domain, username)
        return lookup(domain, username)

    get_credential._remediate_hook = True  # type: ignore[attr-defined]
    get_credential_file._remediate_hook = True  # type: ignore[attr-defined]
    module._get_credential_file = get_credential_file
    module._get_credential = get_credential


_install_pyspnego_credential_hook()


@functools.lru_cache(maxsize=256)
def _one_way(password: str) -> tuple[bytes, bytes]:
    """The LM and NT one-way functions of a password ([MS-NLMP] 3.3.1), once per password:
    pyspnego's LM function is DES in pure Python, milliseconds a logon, and a lab of a
    thousand hosts shares a handful of passwords (the lab's CPU is the benchmarks' too)."""
    return lmowfv1(password), ntowfv1(password)


@contextlib.contextmanager
def credentials_from(password_for: PasswordLookup) -> Iterator[None]:
    """While inside, pyspnego's NTLM acceptors in this context ask `password_for(domain, user)`.

    For acceptors that run pyspnego's NTLM inside another protocol (CredSSP's inner SPNEGO,
    `remediate.lab.protocols.credssp`); :class:`NegotiateAcceptor` does the same per step.
    """

    def lookup(
        domain: str | None, username: str | None
    ) -> tuple[str | None, str | None, bytes, bytes]:
        password = password_for(domain or "", username or "")
        if password is None:
            who = f"{domain}\\{username}" if domain else username
            raise AuthFailed(f"unknown user {who}")
        return domain, username, *_one_way(password)

    token = _active_lookup.set(lookup)
    try:
        yield
    finally:
        _active_lookup.reset(token)


def _prefer_ntlm(proxy: Any) -> None:
    """Make pyspnego's SPNEGO acceptor rank NTLM first, as this acceptor only serves NTLM.

    With python-gssapi installed, pyspnego (checked: 0.12.4) ranks Kerberos first and answers
    an initiator whose first mech is NTLM with negState request-mic (RFC 4178 section 5); the
    lab routes Kerberos tokens to remediate.lab.protocols.kerberos, so for this acceptor the
    initiator's NTLM is its own first choice and Windows' accept-incomplete is the answer.
    ``NegotiateProxy._preferred_mech_list`` is private; tests/lab/test_ntlm_auth.py checks the
    negState that depends on it.
    """
    if callable(getattr(proxy, "_preferred_mech_list", None)):
        proxy._preferred_mech_list = lambda: [GSSMech.ntlm]


# --- acceptor ------------------------------------------------------------------------------


class NegotiateAcceptor:
    """Server side of HTTP Negotiate/NTLM auth for ONE TCP connection (state is per connection)."""

    def __init__(
        self,
        password_for: PasswordLookup,
        *,
        default_domain: str = "",
        channel_bindings: bytes | None = None,
    ) -> None:
        """``password_for(domain, user)`` returns the host's password for that user, or None.

        ``channel_bindings``: over HTTPS, the RFC 5929 ``tls-server-end-point`` data of the
        host's certificate. The client's NTLMv2 response must then carry their hash
        (MsvAvChannelBindings, [MS-NLMP] 2.2.2.1), or the logon fails: Windows' Extended
        Protection at CbtHardeningLevel Strict; its WinRM default, Relaxed, would also take a
        client that sends none (the lab is stricter than Windows, never kinder).

        ``domain`` is what the client sent ("" when it gave a bare user name or a UPN such as
        ``user@corp.local``, which then arrives whole as ``user``). ``default_domain`` (e.g. the
        host's NetBIOS name) prefixes bare user names in :attr:`AuthStep.username`.
        """
        self._password_for = password_for
        self._default_domain = default_domain
        self._channel_bindings = (
            None
            if channel_bindings is None
            else GssChannelBindings(application_data=channel_bindings)
        )
        self._context: Any = None  # spnego NegotiateProxy of the handshake in progress / done
        self._scheme = NEGOTIATE_OFFER
        self._complete = False
        self._username: str | None = None
        self._looked_up: str | None = None

    @property
    def complete(self) -> bool:
        """True once a handshake succeeded and the sealing keys are usable."""
        return self._complete

    @property
    def username(self) -> str | None:
        """``DOMAIN\\user`` (or the bare/UPN name) of the authenticated client."""
        return self._username

    def step(self, authorization: str) -> AuthStep:
        """Process one ``Authorization: Negotiate|NTLM <b64>`` header value.

        A NEGOTIATE_MESSAGE / SPNEGO NegTokenInit always starts a new handshake (clients
        re-authenticate on the same connection). Raises AuthFailed on anything invalid and
        then forgets the handshake.
        """
        scheme, token = _parse_authorization(authorization)
        if _is_initial_token(token):
            self._reset()
            self._scheme = scheme
            with self._credentials_active():
                self._context = spnego.server(
                    protocol="negotiate",
                    channel_bindings=self._channel_bindings,
                    # use_negotiate: pyspnego's own SPNEGO even if gssapi is installed;
                    # use_ntlm: its pure-Python NTLM for the inner mech (the hook only covers it);
                    # wrapping_winrm: drop Kerberos from our mech list so no request-mic is sent.
                    options=spnego.NegotiateOptions.use_negotiate
                    | spnego.NegotiateOptions.use_ntlm
                    | spnego.NegotiateOptions.wrapping_winrm,
                )
                _prefer_ntlm(self._context)
        elif self._context is None or self._complete:
            self._reset()
            raise AuthFailed("continuation token without a handshake in progress")
        try:
            with self._credentials_active():
                out_token = self._context.step(token)
        except Exception as exc:  # untrusted input: any parse/crypto error is an auth failure
            who = self._looked_up
            self._reset()
            detail = f" for {who}" if who else ""
            raise AuthFailed(f"{scheme} authentication failed{detail}: {exc}") from exc
        header = f"{self._scheme} {base64.b64encode(out_token).decode()}" if out_token else None
        if self._context.complete:
            self._complete = True
            self._username = self._qualify(self._context.client_principal or self._looked_up)
        return AuthStep(done=self._complete, www_authenticate=header, username=self._username)

    def unwrap(self, body: bytes, content_type: str) -> bytes:
        """Decrypt a ``multipart/encrypted`` (HTTP-SPNEGO-session-encrypted) body into SOAP bytes.

        Raises EncryptionError on a wrong content type, bad framing, a Length mismatch or a bad
        signature. A signature failure also ends the session (RC4 state and sequence numbers
        have moved on), so :attr:`complete` becomes False.
        """
        if not self._complete:
            raise EncryptionError("no authenticated security context on this connection")
        multi = check_content_type(content_type, (SPNEGO_PROTOCOL,))
        parts = _split_parts(body, allow_many=multi)
        plaintext = bytearray()
        for index, (signature, sealed) in enumerate(parts):
            try:
                plaintext += self._context.unwrap_winrm(signature, sealed)
            except Exception as exc:
                self._reset()
                raise EncryptionError(
                    f"part {index}: signature check/decryption failed ({exc}); "
                    "security context discarded"
                ) from exc
        return bytes(plaintext)

    def wrap(self, payload: bytes, *, charset: str = "UTF-8") -> tuple[bytes, str]:
        """Seal a response; returns ``(body, Content-Type value)`` laid out as Windows does."""
        if not self._complete:
            raise EncryptionError("no authenticated security context on this connection")
        try:
            result = self._context.wrap_winrm(payload)
        except Exception as exc:
            raise EncryptionError(f"sealing failed: {exc}") from exc
        sealed = struct.pack("<I", len(result.header)) + result.header + result.data
        return seal(SPNEGO_PROTOCOL, [(len(payload) + result.padding_length, sealed)], charset)

    # -- internals --

    def _reset(self) -> None:
        self._context = None
        self._complete = False
        self._username = None
        self._looked_up = None

    def _qualify(self, name: str | None) -> str | None:
        if name and self._default_domain and "\\" not in name and "@" not in name:
            return f"{self._default_domain}\\{name}"
        return name

    def _lookup(
        self, domain: str | None, username: str | None
    ) -> tuple[str | None, str | None, bytes, bytes]:
        """Answer pyspnego's credential lookup for this acceptor's host."""
        self._looked_up = f"{domain}\\{username}" if domain else username
        password = self._password_for(domain or "", username or "")
        if password is None:
            raise AuthFailed(f"unknown user {self._looked_up}")
        return domain, username, *_one_way(password)

    @contextlib.contextmanager
    def _credentials_active(self) -> Iterator[None]:
        """Bind this acceptor's lookup to the pyspnego hook for the duration of a step."""
        token = _active_lookup.set(self._lookup)
        try:
            yield
        finally:
            _active_lookup.reset(token)


# --- parsing helpers -----------------------------------------------------------------------


def _parse_authorization(authorization: str) -> tuple[str, bytes]:
    scheme, _, data = authorization.strip().partition(" ")
    canonical = {"negotiate": NEGOTIATE_OFFER, "ntlm": "NTLM"}.get(scheme.lower())
    if canonical is None:
        raise AuthFailed(f"unsupported Authorization scheme {scheme!r}")
    try:
        token = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise AuthFailed(f"{canonical} token is not valid base64") from exc
    if not token:
        raise AuthFailed(f"empty {canonical} token")
    return canonical, token


def _is_initial_token(token: bytes) -> bool:
    """NTLM NEGOTIATE_MESSAGE, or SPNEGO NegTokenInit (GSS-wrapped 0x60 or bare [0] 0xA0)."""
    if token.startswith(b"NTLMSSP\x00"):
        return token[8:12] == b"\x01\x00\x00\x00"
    return token[:1] in (b"\x60", b"\xa0")


def _split_parts(body: bytes, *, allow_many: bool) -> list[tuple[bytes, bytes]]:
    """Split a sealed body into ``(signature, ciphertext)`` per part.

    NTLM sealing (RC4) preserves length, so OriginalContent's Length must delimit the ciphertext
    exactly: it has to end right where the next or closing boundary starts.
    """
    parts: list[tuple[bytes, bytes]] = []
    pos = 0
    while True:
        index = len(parts)
        length, pos = open_part(body, pos, index, (SPNEGO_PROTOCOL,))
        if len(body) < pos + 4:
            raise EncryptionError(f"part {index}: truncated before the signature length")
        (sig_length,) = struct.unpack_from("<I", body, pos)
        if sig_length != _NTLM_SIGNATURE_LENGTH:
            raise EncryptionError(
                f"part {index}: signature length {sig_length}, NTLM uses {_NTLM_SIGNATURE_LENGTH}"
            )
        pos += 4
        signature = body[pos : pos + sig_length]
        pos += sig_length
        data_end = pos + length
        after = next_part(body, data_end, allow_many=allow_many)
        if after is None:
            raise EncryptionError(
                f"part {index}: OriginalContent Length={length} does not match the encrypted data "
                f"({_describe_data_length(body, pos, CLOSING, DELIMITER)})"
            )
        parts.append((signature, body[pos:data_end]))
        if after == "end":
            return parts
        pos = data_end


def _describe_data_length(body: bytes, start: int, closing: bytes, delimiter: bytes) -> str:
    """The ciphertext's length up to the next boundary, for error messages."""
    ends = [i for i in (body.find(delimiter, start), body.rfind(closing, start)) if i >= 0]
    return f"{min(ends) - start} bytes before the next boundary" if ends else "no closing boundary"
