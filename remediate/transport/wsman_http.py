"""WS-Management over one keep-alive HTTP connection per host, for Basic and NTLM.

Why not requests: a WinRM conversation is a handful of POSTs to one URL, with the same headers,
on one connection (NTLM authenticates the connection, not the request). requests rebuilt all of
it for every request (a session's merged settings, header dictionaries, hooks, the proxy
environment read again), about half of the controller's CPU per host (issue 18, profiled with
bench/audit.py). Here the headers are made once per host, the connection is one socket
(transport/http_link.py), and a request is a write and a read.

Nothing of pywinrm or requests is imported on this path: refusals, faults and operation
timeouts are our own exceptions (wsman_errors.py), and pyspnego and cryptography are imported
when an NTLM logon first needs them, so a Basic run loads neither. Kerberos, CredSSP and
certificate logons stay on pywinrm's own transport (see `can_carry`, pywinrm_path.py).

NTLM (MS-NLMP) through pyspnego, as requests_ntlm does it: raw NTLMSSP tokens under the
`Negotiate` scheme (WinRM's service offers Negotiate, not NTLM), with the TLS channel binding
over HTTPS (RFC 5929 tls-server-end-point). With message encryption, the handshake is an empty
POST and each message is sealed ([MS-WSMV] 2.2.9.1.1, framing in `sealed_message`); without
it (HTTPS), the handshake carries the first message, as requests_ntlm sends it.
"""

from __future__ import annotations

import base64
import functools
import os
import ssl
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from remediate.errors import (
    CertificateError,
    ConnectError,
    HostTimeoutError,
    ProtocolError,
)
from remediate.transport.http_link import Answer, HttpFormatError, HttpLink
from remediate.transport.sealed_message import SealedMessageError, seal, sealed_protocol, unseal
from remediate.transport.settings import bracketed, wsman_url
from remediate.transport.wsman_errors import CredentialsRefused, broke, raise_for_status

if TYPE_CHECKING:
    import spnego
    from spnego.channel_bindings import GssChannelBindings

__all__ = ["HttpTarget", "WSManHTTP", "can_carry", "offered_schemes"]

LEAN_AUTH = ("basic", "plaintext", "ntlm")
_USER_AGENT = "Python WinRM client"  # pywinrm's, so that a host's logs read the same
_SOAP = "application/soap+xml;charset=UTF-8"

Exchange = Callable[[str, int, int, int, int, int, int], None]
"""-vvv: (method, status, request header bytes, body bytes, response header bytes, body
bytes, authentication legs before it)."""


@dataclass(frozen=True)
class HttpTarget:
    """What the connection needs of a host's WinRM settings (the password stays in memory)."""

    scheme: Literal["http", "https"]
    address: str
    port: int
    auth: str
    username: str
    password: str = field(repr=False)
    encrypt: bool
    validate_certificate: bool = True
    ca_trust_path: str | None = None

    @property
    def endpoint(self) -> str:
        return wsman_url(self.scheme, self.address, self.port)


def can_carry(auth: str, scheme: str, address: str, cert_pem: str | None) -> bool:
    """Whether this path serves a host: Basic or NTLM, no client certificate, and no proxy
    from the environment for it (pywinrm honours HTTP(S)_PROXY; so does its path, kept
    for those hosts)."""
    if auth not in LEAN_AUTH or cert_pem:
        return False
    proxies = _environment_proxies()
    if scheme not in proxies and "all" not in proxies:
        return True
    return bool(urllib.request.proxy_bypass_environment(address, proxies))


@functools.cache
def _environment_proxies() -> dict[str, str]:
    return urllib.request.getproxies_environment()


def offered_schemes(headers: Iterable[str]) -> frozenset[str]:
    """The authentication schemes these WWW-Authenticate values name (one header may name
    several, comma-separated; a token follows its scheme after a space)."""
    names: set[str] = set()
    for value in headers:
        for part in value.split(","):
            word = part.strip().split(" ", 1)[0]
            if word and "=" not in word:
                names.add(word.lower())
    return frozenset(names)


class WSManHTTP:
    """One host's WS-Management HTTP: `build_session` connects (and, to encrypt, logs on),
    `send_message` posts one envelope and returns the reply's plain bytes."""

    def __init__(
        self,
        target: HttpTarget,
        read_timeout: float,
        on_refused: Callable[[frozenset[str]], None] = lambda offers: None,
        on_exchange: Exchange | None = None,
    ) -> None:
        self.target = target
        self.endpoint = target.endpoint
        self.read_timeout_sec = read_timeout
        self._on_refused = on_refused
        self._on_exchange = on_exchange
        self._connection: HttpLink | None = None
        self._context: spnego.ContextProxy | None = None  # NTLM, once the logon completed
        self._protocol = sealed_protocol("ntlm") if target.encrypt else ""
        # The request line and the headers every request carries, written once per host.
        self._head = (
            f"POST /wsman HTTP/1.1\r\nHost: {_host_header(target)}\r\n"
            f"User-Agent: {_USER_AGENT}\r\nConnection: Keep-Alive\r\n"
        ).encode("latin-1")
        if target.auth != "ntlm":
            self._head += b"Authorization: %s\r\n" % _basic(target.username, target.password)
        self._soap_head = self._head + b"Content-Type: " + _SOAP.encode() + b"\r\n"

    @property
    def encryption(self) -> bool:
        """Whether messages are sealed (pywinrm's transport names its Encryption object so)."""
        return bool(self._protocol) and self._context is not None

    def build_session(self) -> None:
        """Connect; with NTLM message encryption, log on now with an empty POST, so that the
        first WS-Management message already goes out sealed."""
        self._connect()
        if self.target.encrypt and self._context is None:
            answer = self._logon(b"")
            if answer.status != 200:
                self._answer(answer)  # raises: refused, or the host's error

    def close_session(self) -> None:
        connection, self._connection, self._context = self._connection, None, None
        if connection is not None:
            connection.close()

    def send_message(self, message: str | bytes) -> bytes:
        body = message.encode("utf-8") if isinstance(message, str) else message
        if self._connection is not None and self._connection.idle_closed():
            # The host closed the idle connection (a restart, its keep-alive timeout): NTLM's
            # logon and keys went with it.
            self.close_session()
        if self._connection is None:
            self.build_session()
        if self.target.auth == "ntlm" and self._context is None:
            answer = self._logon(body)  # the logon carries the message
        elif self.encryption:
            answer = self._post(*seal(self._wrap, body, self._protocol))
        else:
            answer = self._post(body)
        return self._answer(answer)

    # --- one request --------------------------------------------------------------------------

    def _connect(self) -> HttpLink:
        if self._connection is not None:
            return self._connection
        target = self.target
        tls = None
        if target.scheme == "https":
            tls = _tls_context(target.validate_certificate, _ca_path(target))
        try:
            connection = HttpLink(target.address, target.port, self.read_timeout_sec, tls)
        except ssl.SSLCertVerificationError as exc:
            raise CertificateError(
                f"TLS certificate of {self.endpoint} not trusted: "
                f"{exc.verify_message or exc.reason or 'verification failed'}",
                hint="give the CA with ansible_winrm_ca_trust_path",
            ) from None
        except TimeoutError:
            raise broke(HostTimeoutError(f"connecting to {self.endpoint} timed out")) from None
        except OSError as exc:
            raise broke(
                ConnectError(f"cannot connect to {self.endpoint}: {_reason(exc)}")
            ) from None
        self._connection = connection
        return connection

    def _post(
        self,
        body: bytes,
        content_type: str = _SOAP,
        authorization: str | None = None,
        legs: int = 0,
    ) -> Answer:
        connection = self._connect()
        head = self._soap_head
        if content_type != _SOAP or authorization is not None:
            head = self._head + f"Content-Type: {content_type}\r\n".encode("latin-1")
            if authorization is not None:
                head += f"Authorization: {authorization}\r\n".encode("latin-1")
        try:
            answer = connection.post(head, body)
        except TimeoutError:
            self.close_session()
            raise broke(HostTimeoutError(f"{self.endpoint} did not answer in time")) from None
        except HttpFormatError as exc:
            self.close_session()
            raise broke(ProtocolError(f"unusable answer from {self.endpoint}: {exc}")) from None
        except OSError as exc:
            self.close_session()
            raise broke(
                ConnectError(f"cannot connect to {self.endpoint}: {_reason(exc)}")
            ) from None
        if answer.will_close:
            connection.close()
            self._connection = None
            if self.target.auth == "ntlm":
                self._context = None  # the logon belonged to the connection
        if self._on_exchange is not None:
            self._on_exchange(
                "POST",
                answer.status,
                len(head),
                len(body),
                answer.header_bytes,
                len(answer.body),
                legs,
            )
        return answer

    def _answer(self, answer: Answer) -> bytes:
        """The reply's plain text; a refusal, a fault or an HTTP error raised as such."""
        if answer.status == 401:
            self._on_refused(offered_schemes(answer.get_all("www-authenticate")))
            self.close_session()
            raise CredentialsRefused("the host rejected the credentials")
        text = self._plain(answer)
        if answer.status != 200:
            raise_for_status(answer.status, text)
        return text

    def _plain(self, answer: Answer) -> bytes:
        reply = answer.body
        if not self._protocol or f'protocol="{self._protocol}"' not in answer.get("content-type"):
            return reply
        if self._context is None:
            raise broke(ProtocolError("a sealed answer came before the logon"))
        from spnego.exceptions import SpnegoError

        try:
            return unseal(self._context.unwrap_winrm, reply, self._protocol)
        except (SealedMessageError, SpnegoError) as exc:
            detail = exc if isinstance(exc, SealedMessageError) else "its signature does not match"
            raise broke(
                ProtocolError(f"unusable sealed answer from {self.endpoint}: {detail}")
            ) from None

    def _wrap(self, data: bytes) -> tuple[bytes, bytes]:
        assert self._context is not None
        wrapped = self._context.wrap_winrm(data)
        return wrapped.header, wrapped.data

    # --- NTLM ---------------------------------------------------------------------------------

    def _logon(self, body: bytes) -> Answer:
        """NEGOTIATE, CHALLENGE, AUTHENTICATE on this connection; the last answer returned."""
        import spnego

        connection = self._connect()
        target = self.target
        context = spnego.client(
            _ntlm_credential(target.username, target.password),
            hostname=target.address,
            service="http",
            protocol="ntlm",
            channel_bindings=_channel_bindings(connection),
        )
        negotiate = context.step()
        assert negotiate is not None
        answer = self._post(body, _SOAP, _negotiate(negotiate), legs=0)
        offers = answer.get_all("www-authenticate")
        challenge = _challenge(offers)
        if answer.status != 401 or challenge is None:
            if answer.status == 401:
                self._on_refused(offered_schemes(offers))
                self.close_session()
                # requests_ntlm's words, which the WinRM transport maps to "refuses NTLM"
                raise PermissionError("Server did not respond with NTLM challenge token")
            return answer
        authenticate = context.step(challenge)
        assert authenticate is not None
        self._context = context
        return self._post(body, _SOAP, _negotiate(authenticate), legs=1)


@functools.lru_cache(maxsize=64)
def _ntlm_credential(username: str, password: str) -> spnego.NTLMHash | spnego.Password:
    """The user's NTLM hashes, computed once per process and user (kept in memory only).

    pyspnego derives both hashes from a password for every new context, and the LM hash
    is DES in pure Python: 1.2 ms of CPU per host, for a fleet that shares one account
    (profiled with yappi, issue 18). The hashes are what it derives itself.
    """
    import spnego

    try:
        from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1
    except ImportError:  # a pyspnego without them: derive per context, as it would
        return spnego.Password(username, password)
    return spnego.NTLMHash(
        username, lm_hash=lmowfv1(password).hex(), nt_hash=ntowfv1(password).hex()
    )


def _negotiate(token: bytes) -> str:
    return "Negotiate " + base64.b64encode(token).decode("ascii")


def _challenge(values: Iterable[str]) -> bytes | None:
    for value in values:
        for part in value.split(","):
            scheme, _, token = part.strip().partition(" ")
            if scheme.lower() in ("negotiate", "ntlm") and token.strip():
                try:
                    return base64.b64decode(token.strip(), validate=True)
                except ValueError:
                    return None
    return None


def _channel_bindings(connection: HttpLink) -> GssChannelBindings | None:
    """RFC 5929 tls-server-end-point: the server certificate's hash, with its signature's
    hash algorithm, SHA-256 in place of MD5 and SHA-1 (section 4.1); None over plain HTTP."""
    sock = connection.sock
    if not isinstance(sock, ssl.SSLSocket):
        return None
    der = sock.getpeercert(binary_form=True)
    if not der:
        return None
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes
    from spnego.channel_bindings import GssChannelBindings

    try:
        algorithm = x509.load_der_x509_certificate(der).signature_hash_algorithm
    except (UnsupportedAlgorithm, ValueError):
        return None
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(der)
    return GssChannelBindings(application_data=b"tls-server-end-point:" + digest.finalize())


def _basic(username: str, password: str) -> bytes:
    """RFC 7617; latin-1 as requests writes it, UTF-8 where latin-1 cannot say the name."""
    pair = f"{username}:{password}"
    try:
        raw = pair.encode("latin-1")
    except UnicodeEncodeError:
        raw = pair.encode("utf-8")
    return b"Basic " + base64.b64encode(raw)


def _host_header(target: HttpTarget) -> str:
    address = bracketed(target.address)
    default = 443 if target.scheme == "https" else 80
    return address if target.port == default else f"{address}:{target.port}"


def _ca_path(target: HttpTarget) -> str | None:
    """The CA bundle or folder: the host's, else the environment's as requests read it, else
    the system's default store (None)."""
    if not target.validate_certificate:
        return None
    return (
        target.ca_trust_path
        or os.environ.get("REQUESTS_CA_BUNDLE")
        or os.environ.get("CURL_CA_BUNDLE")
        or _certifi()
    )


def _certifi() -> str | None:
    try:
        import certifi
    except ImportError:  # pragma: no cover - requests depends on it
        return None
    return certifi.where()


@functools.lru_cache(maxsize=32)
def _tls_context(validate: bool, ca_path: str | None) -> ssl.SSLContext:
    """One context per trust setting, shared by every host (loading a CA bundle costs
    milliseconds; an SSLContext is safe to share between threads)."""
    if not validate:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if ca_path and os.path.isdir(ca_path):
        return ssl.create_default_context(capath=ca_path)
    return ssl.create_default_context(cafile=ca_path)


def _reason(exc: BaseException) -> str:
    """A socket error in a few words, never a library's repr."""
    if isinstance(exc, OSError) and exc.errno is None and exc.args:
        return str(exc.args[0])  # our own words (http_link)
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by peer"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return type(exc).__name__
