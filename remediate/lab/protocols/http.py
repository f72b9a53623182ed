"""The WinRM HTTP(S) listener of one simulated host: HTTP/1.1 (h11), authentication, faults.

Authentication follows what Windows does on `/wsman`: an unauthenticated request gets
`401` with no body and one `WWW-Authenticate` header per enabled scheme; Basic is checked on
every request; Negotiate (NTLM or Kerberos) and Kerberos authenticate the TCP connection, after
which the client sends its SOAP sealed in `multipart/encrypted` bodies (MS-WSMV 2.2.9.1) and
gets sealed answers.

Which acceptor takes a Negotiate token depends on its mechanism (RFC 4559 section 4 carries
SPNEGO or a bare mech token): Kerberos goes to remediate.lab.protocols.kerberos when the host
is a domain member (the fleet has kerberos settings) and accepts Kerberos; NTLM goes to the
NTLM acceptor unless the host denies incoming NTLM (`endpoints.ntlm: false`, Windows' "Restrict
NTLM: Incoming NTLM traffic = Deny all"), which refuses it with the bare 401 as Windows does.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import random
from dataclasses import dataclass

import h11
from cryptography import x509

from remediate.lab.host import LabHost
from remediate.lab.protocols import wsman
from remediate.lab.protocols.client_certificate import (
    MUTUAL_AUTH,
    CertificateMapping,
    CertificateRefused,
    mapped_user,
    thumbprint,
)
from remediate.lab.protocols.credssp import CredSSPAcceptor
from remediate.lab.protocols.kerberos import (
    KerberosAcceptor,
    KerberosService,
    KerberosUnavailable,
    token_mechanism,
)
from remediate.lab.protocols.ntlm import (
    AuthFailed,
    AuthStep,
    EncryptionError,
    NegotiateAcceptor,
    initial_challenge,
)
from remediate.lab.protocols.winrs import ConnectionDropped, FaultError, ShellService

log = logging.getLogger(__name__)

SERVER_HEADER = b"Microsoft-HTTPAPI/2.0"
MAX_BODY = 16 * 1024 * 1024
ENCRYPTED_TYPES = ("multipart/encrypted", "multipart/x-multi-encrypted")


Acceptor = NegotiateAcceptor | KerberosAcceptor | CredSSPAcceptor


@dataclass
class _ConnectionAuth:
    """What one TCP connection has proven about its user."""

    acceptor: Acceptor | None = None
    user: str | None = None
    shell_id: str | None = None  # the shell of the request being answered
    client_certificate: bytes | None = None  # DER, as the TLS handshake verified it


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str | None = wsman.SOAP_CONTENT_TYPE
    www_authenticate: tuple[str, ...] = ()


class WinRMListener:
    """Serves `/wsman` for one host, on as many sockets (HTTP, HTTPS) as it is given."""

    def __init__(
        self, host: LabHost, service: ShellService, kerberos: KerberosService | None = None
    ) -> None:
        """`kerberos`: the host's keys and names when it is a domain member, else None."""
        self.host = host
        self.service = service
        self.kerberos = kerberos
        # RFC 5929 tls-server-end-point data of the HTTPS certificate (set by the lab).
        self.tls_channel_binding: bytes | None = None
        # The certificate that signs client logon certificates (set by the lab; certificate
        # logon is refused without it).
        self.client_issuer: x509.Certificate | None = None
        self._random = random.Random(host.name)  # deterministic flapping per host
        self._writers: set[asyncio.StreamWriter] = set()

    def abort_connections(self) -> None:
        """Drop every live connection at once (the host went away)."""
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, scheme: str
    ) -> None:
        """Handle one accepted connection until it closes."""
        host = self.host
        if not host.is_online():
            writer.transport.abort()
            return
        host.count("connections")
        self._writers.add(writer)
        try:
            if host.spec.faults.blackhole:
                while await reader.read(65536):
                    pass
                return
            await self._serve_http(reader, writer, scheme)
        except ConnectionDropped as exc:
            log.debug("%s: %s", host.name, exc)
            writer.transport.abort()
        except (ConnectionError, h11.ProtocolError, asyncio.IncompleteReadError) as exc:
            log.debug("%s: connection ended: %s", host.name, exc)
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _serve_http(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, scheme: str
    ) -> None:
        connection = h11.Connection(h11.SERVER)
        auth = _ConnectionAuth()
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        tls = writer.get_extra_info("ssl_object")
        auth.client_certificate = tls.getpeercert(binary_form=True) if tls is not None else None
        sock = writer.get_extra_info("sockname") or ("127.0.0.1", 0)
        while True:
            received = await read_request(connection, reader)
            if received is None:
                return
            request, body = received
            self.host.count("requests")
            latency = self.host.spec.faults.latency_ms
            if latency:
                await asyncio.sleep(latency / 1000)
            address = f"{scheme}://{sock[0]}:{sock[1]}/wsman"
            response, sealed_by = await self._respond(request, body, auth, scheme, peer[0], address)
            if sealed_by is not None and response.body:
                payload, content_type = sealed_by.wrap(response.body)
                response = _Response(response.status, payload, content_type)
            data = _serialize(connection, response)
            flapping = self.host.spec.faults.flapping
            if flapping and self._random.random() < flapping:
                self.host.count("faults_sent")
                self.service.mark_broken(auth.shell_id)
                writer.write(data[: max(1, len(data) // 2)])
                await writer.drain()
                writer.transport.abort()
                return
            writer.write(data)
            await writer.drain()
            if connection.our_state is h11.MUST_CLOSE:
                return
            connection.start_next_cycle()

    async def _respond(
        self,
        request: h11.Request,
        body: bytes,
        auth: _ConnectionAuth,
        scheme: str,
        client_ip: str,
        address: str,
    ) -> tuple[_Response, Acceptor | None]:
        """The response to one request, and the context that must seal it (if any)."""
        if request.target.split(b"?")[0].lower() != b"/wsman":
            return _Response(404, content_type=None), None
        if request.method != b"POST":
            return _Response(405, content_type=None), None
        headers = {name.lower(): value for name, value in request.headers}
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        challenge = self._challenge(scheme)
        extra: tuple[str, ...] = ()
        scheme_name, _, credentials = authorization.partition(" ")
        scheme_name = scheme_name.lower()
        endpoints = self.host.spec.endpoints
        plain_http = scheme == "http"
        if scheme_name == "basic" and endpoints.basic:
            if plain_http and not endpoints.allow_unencrypted:
                return challenge, None
            user = self._basic_user(credentials)
            if user is None:
                self.host.count("auth_failures")
                return challenge, None
            auth.user = user
        elif authorization.strip().lower() == MUTUAL_AUTH:
            user = self._certificate_user(auth, scheme)
            if user is None:
                return challenge, None
            auth.user = user
        elif scheme_name == "credssp" and endpoints.credssp:
            step = self._credssp(authorization, auth)
            if step is None:
                return challenge, None
            if not step.done:
                return _Response(
                    401, content_type=None, www_authenticate=(step.www_authenticate or "CredSSP",)
                ), None
            auth.user = step.username
        elif scheme_name in ("negotiate", "ntlm", "kerberos"):
            step = self._authenticate(scheme_name, authorization, auth, scheme)
            if step is None:
                return challenge, None
            if not step.done:
                return _Response(
                    401, content_type=None, www_authenticate=(step.www_authenticate or "Negotiate",)
                ), None
            auth.user = step.username
            if step.www_authenticate:
                extra = (step.www_authenticate,)
        elif authorization or auth.user is None or auth.acceptor is None:
            return challenge, None
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        sealed_by: Acceptor | None = None
        if content_type.lower().startswith(ENCRYPTED_TYPES):
            if auth.acceptor is None or not auth.acceptor.complete:
                return challenge, None
            try:
                body = auth.acceptor.unwrap(body, content_type)
            except EncryptionError as exc:
                log.debug("%s: bad sealed message: %s", self.host.name, exc)
                return _Response(400, content_type=None), None
            sealed_by = auth.acceptor
        elif not body:
            return _Response(200, content_type=None, www_authenticate=extra), None
        elif plain_http and not endpoints.allow_unencrypted:
            return challenge, None
        response = await self._soap(body, auth, client_ip, address)
        response.www_authenticate = extra
        return response, sealed_by

    def _authenticate(
        self, scheme_name: str, authorization: str, auth: _ConnectionAuth, scheme: str
    ) -> AuthStep | None:
        """One leg of Negotiate/NTLM/Kerberos on this connection; None when refused.

        A first token picks the acceptor by its mechanism (a new handshake replaces the
        connection's old one); a continuation goes to the handshake in progress.
        """
        name = self.host.name
        mechanism = _mechanism(authorization)
        acceptor: Acceptor | None = None
        if mechanism == "continuation":
            if auth.acceptor is not None and not auth.acceptor.complete:
                acceptor = auth.acceptor
        elif mechanism == "kerberos" and self._accepts_kerberos(scheme_name):
            assert self.kerberos is not None
            bindings = self.tls_channel_binding if scheme == "https" else None
            acceptor = KerberosAcceptor(self.kerberos, channel_bindings=bindings)
        elif mechanism == "ntlm" and self._accepts_ntlm(scheme_name):
            bindings = self.tls_channel_binding if scheme == "https" else None
            acceptor = NegotiateAcceptor(self._password_for, channel_bindings=bindings)
        if acceptor is None:
            log.debug("%s: %s token (%s) refused by policy", name, scheme_name, mechanism)
            self.host.count("auth_failures")
            auth.acceptor = None
            auth.user = None
            return None
        if acceptor is not auth.acceptor:
            auth.acceptor = acceptor
            auth.user = None
        try:
            return acceptor.step(authorization)
        except (AuthFailed, KerberosUnavailable) as exc:
            log.debug("%s: %s refused: %s", name, mechanism, exc)
            self.host.count("auth_failures")
            auth.acceptor = None
            return None

    def _credssp(self, authorization: str, auth: _ConnectionAuth) -> AuthStep | None:
        """One CredSSP leg: a new handshake unless one is in progress on this connection."""
        acceptor = auth.acceptor
        if not isinstance(acceptor, CredSSPAcceptor) or acceptor.complete:
            acceptor = CredSSPAcceptor(self._password_for, default_domain=self.host.spec.hostname)
            auth.acceptor = acceptor
            auth.user = None
        try:
            step = acceptor.step(authorization)
        except AuthFailed as exc:
            log.debug("%s: CredSSP refused: %s", self.host.name, exc)
            self.host.count("auth_failures")
            auth.acceptor = None
            return None
        if acceptor.refused:  # the 401 still carries the error for the client to read
            log.debug("%s: CredSSP logon denied", self.host.name)
            self.host.count("auth_failures")
            auth.acceptor = None
        return step

    def _certificate_user(self, auth: _ConnectionAuth, scheme: str) -> str | None:
        """The account a client certificate maps to; None (a 401) as Windows refuses it:
        over HTTP, without Auth/Certificate, without a certificate, or with no mapping."""
        spec = self.host.spec
        issuer = self.client_issuer
        if (
            scheme != "https"
            or not spec.endpoints.certificate
            or issuer is None
            or auth.client_certificate is None
        ):
            self.host.count("auth_failures")
            return None
        lab_issuer = thumbprint(issuer)
        mappings = [
            CertificateMapping(m.issuer or lab_issuer, m.subject, m.username, m.enabled)
            for m in spec.credentials.certificate_mappings
        ]
        try:
            user = mapped_user(auth.client_certificate, mappings, [issuer])
        except CertificateRefused as exc:
            log.debug("%s: certificate refused: %s", self.host.name, exc)
            self.host.count("auth_failures")
            return None
        auth.acceptor = None  # nothing seals: HTTPS protects the messages
        return f"{spec.hostname}\\{user}"

    def _accepts_kerberos(self, scheme_name: str) -> bool:
        endpoints = self.host.spec.endpoints
        via = endpoints.negotiate if scheme_name == "negotiate" else scheme_name == "kerberos"
        return self.kerberos is not None and endpoints.kerberos and via

    def _accepts_ntlm(self, scheme_name: str) -> bool:
        endpoints = self.host.spec.endpoints
        via = endpoints.negotiate if scheme_name == "negotiate" else scheme_name == "ntlm"
        return endpoints.ntlm and via

    def _challenge(self, scheme: str) -> _Response:
        """The bare 401: WinRM's Auth settings decide the offers (Windows' order), not
        whether NTLM is allowed: a host that denies NTLM still offers Negotiate."""
        endpoints = self.host.spec.endpoints
        offers = initial_challenge(
            negotiate=endpoints.negotiate,
            kerberos=endpoints.kerberos,
            basic=endpoints.basic,
            credssp=endpoints.credssp,
        )
        return _Response(401, content_type=None, www_authenticate=tuple(offers))

    def _basic_user(self, credentials: str) -> str | None:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(":")
        if not sep or not self.host.check_password(user, password):
            return None
        return user

    def _password_for(self, domain: str, user: str) -> str | None:
        expected = self.host.spec.credentials
        if self.host.spec.faults.wrong_password or user.lower() != expected.username.lower():
            return None
        return expected.password

    async def _soap(
        self, body: bytes, auth: _ConnectionAuth, client_ip: str, address: str
    ) -> _Response:
        machine = self.host.spec.hostname
        user = auth.user or ""
        try:
            request = wsman.parse_request(body)
        except wsman.SoapError as exc:
            fault = wsman.invalid_request(str(exc))
            return _Response(wsman.FAULT_HTTP_STATUS, fault.render("", machine))
        auth.shell_id = request.selectors.get("ShellId")
        if request.identify:
            os = self.host.spec.os
            version = f"OS: {os.version} SP: {os.service_pack}.0 Stack: 2.0"
            return _Response(200, wsman.identify_response(version))
        try:
            payload = await self.service.handle(request, user, client_ip, address)
        except FaultError as exc:
            self.host.count("faults_sent")
            return _Response(wsman.FAULT_HTTP_STATUS, exc.fault.render(request.message_id, machine))
        return _Response(200, payload)


def _mechanism(authorization: str) -> str:
    """The mechanism of an Authorization header's token ("unknown" when it is no token)."""
    _, _, data = authorization.strip().partition(" ")
    try:
        token = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        return "unknown"
    return token_mechanism(token) if token else "unknown"


async def read_request(
    connection: h11.Connection, reader: asyncio.StreamReader
) -> tuple[h11.Request, bytes] | None:
    """One HTTP request and its body; None when the client closed (the lab's admin page too)."""
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            connection.receive_data(await reader.read(65536))
        elif isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > MAX_BODY:
                raise ConnectionError("request body too large")
        elif isinstance(event, h11.EndOfMessage):
            assert request is not None
            return request, bytes(body)
        elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            return None


def _serialize(connection: h11.Connection, response: _Response) -> bytes:
    headers: list[tuple[bytes, bytes]] = [(b"Server", SERVER_HEADER)]
    for offer in response.www_authenticate:
        headers.append((b"WWW-Authenticate", offer.encode("latin-1")))
    if response.content_type and response.body:
        headers.append((b"Content-Type", response.content_type.encode("latin-1")))
    headers.append((b"Content-Length", str(len(response.body)).encode()))
    data = connection.send(h11.Response(status_code=response.status, headers=headers)) or b""
    if response.body:
        data += connection.send(h11.Data(data=response.body)) or b""
    data += connection.send(h11.EndOfMessage()) or b""
    return data
