"""The lean WS-Management HTTP path: which hosts take it, what it refuses, how it fails.

Against the lab over real sockets; answers no Windows host would write (chunked, cut, too
long, not HTTP) come from a raw socket server in the test, on loopback too.
"""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator

import pytest
import spnego

from remediate.errors import AuthenticationError, ConnectError, ProtocolError
from remediate.lab.server import Lab
from remediate.transport import wsman_http
from remediate.transport.http_link import HttpLink
from remediate.transport.sealed_message import SealedMessageError, seal, unseal
from remediate.transport.winrm import WinRMSettings, WinRMTransport
from remediate.transport.wsman_http import HttpTarget, WSManHTTP, can_carry
from tests.conftest import PASSWORD
from tests.transport.test_winrm import transport

PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"


# --- which hosts take it --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "cert", "lean"),
    [
        ("basic", None, True),
        ("ntlm", None, True),
        ("plaintext", None, True),
        ("kerberos", None, False),
        ("credssp", None, False),
        ("certificate", "/etc/client.pem", False),
        ("basic", "/etc/client.pem", False),
    ],
)
def test_basic_and_ntlm_take_the_lean_path_the_other_logons_pywinrm(
    auth: str, cert: str | None, lean: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    wsman_http._environment_proxies.cache_clear()
    assert can_carry(auth, "https", "ex.lab.local", cert) is lean


def test_a_proxy_from_the_environment_keeps_pywinrm_unless_the_host_bypasses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", "direct.lab.local")
    wsman_http._environment_proxies.cache_clear()
    try:
        assert not can_carry("ntlm", "https", "ex.lab.local", None)
        assert can_carry("ntlm", "https", "direct.lab.local", None)
        assert can_carry("ntlm", "http", "ex.lab.local", None)  # no proxy for http
    finally:
        wsman_http._environment_proxies.cache_clear()


def test_an_audit_transport_for_ntlm_is_the_lean_one_and_encrypts(lab: Lab) -> None:
    link = transport(lab, "ex2003.lab.local")
    try:
        assert link.run_command("hostname").stdout == b"EX2003\r\n"
        assert isinstance(link._protocol.transport, WSManHTTP)
        assert link._protocol.transport.encryption
    finally:
        link.close()


# --- NTLM over HTTPS: the channel binding ---------------------------------------------------


def https_ntlm(lab: Lab) -> WinRMTransport:
    endpoint = lab.endpoint("ex2003.lab.local")
    settings = WinRMSettings(
        address=endpoint.address,
        port=endpoint.https_port or 1,
        scheme="https",
        auth="ntlm",
        username="LAB\\Administrator",
        password=PASSWORD,
        ca_trust_path=str(lab.ca_path),
        connect_retries=0,
        read_timeout=12,
        operation_timeout=2,
    )
    return WinRMTransport(settings, host="ex2003.lab.local")


def test_ntlm_over_https_binds_the_logon_to_the_tls_certificate(lab: Lab) -> None:
    link = https_ntlm(lab)
    try:
        assert link.run_command("hostname").exit_code == 0
        assert isinstance(link._protocol.transport, WSManHTTP)
        assert not link._protocol.transport.encryption  # TLS protects the messages
    finally:
        link.close()


@pytest.mark.parametrize("binding", [None, b"tls-server-end-point:" + bytes(32)])
def test_the_lab_refuses_an_ntlm_logon_over_https_without_the_right_binding(
    lab: Lab, binding: bytes | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Extended Protection: a logon relayed from another TLS connection carries another
    certificate's hash, or none; the lab (CbtHardeningLevel Strict) refuses both."""

    def forged(connection: HttpLink) -> spnego.channel_bindings.GssChannelBindings | None:
        if binding is None:
            return None
        return spnego.channel_bindings.GssChannelBindings(application_data=binding)

    monkeypatch.setattr(wsman_http, "_channel_bindings", forged)
    link = https_ntlm(lab)
    with pytest.raises(AuthenticationError):
        link.run_command("hostname")
    link.close()


# --- sealed messages, against the lab's own framing -----------------------------------------


@pytest.fixture
def contexts() -> Iterator[tuple[spnego.ContextProxy, object]]:
    """A client context and the lab's acceptor, logged on to each other."""
    from remediate.lab.protocols.ntlm import NegotiateAcceptor

    def password_for(domain: str, user: str) -> str | None:
        return PASSWORD if user.lower() == "administrator" else None

    acceptor = NegotiateAcceptor(password_for)
    client = spnego.client("LAB\\Administrator", PASSWORD, protocol="ntlm")
    step = acceptor.step("Negotiate " + base64.b64encode(client.step() or b"").decode())
    assert step.www_authenticate is not None
    challenge = base64.b64decode(step.www_authenticate.split(" ", 1)[1])
    final = acceptor.step("Negotiate " + base64.b64encode(client.step(challenge) or b"").decode())
    assert final.done
    yield client, acceptor


def wrap_with(client: spnego.ContextProxy):  # type: ignore[no-untyped-def]
    def wrap(data: bytes) -> tuple[bytes, bytes]:
        result = client.wrap_winrm(data)
        return result.header, result.data

    return wrap


def test_a_sealed_message_is_read_by_the_lab_and_its_answer_by_us(contexts) -> None:  # type: ignore[no-untyped-def]
    client, acceptor = contexts
    message = "<env:Envelope>é and more</env:Envelope>".encode()
    body, content_type = seal(wrap_with(client), message, PROTOCOL)
    assert acceptor.unwrap(body, content_type) == message
    answer, answer_type = acceptor.wrap(b"<env:Envelope>answer</env:Envelope>")
    assert PROTOCOL in answer_type
    assert unseal(client.unwrap_winrm, answer, PROTOCOL) == b"<env:Envelope>answer</env:Envelope>"


@pytest.mark.parametrize(
    "damage",
    [
        lambda body: body[:-30],  # cut
        lambda body: body.replace(b"Length=", b"Length=9"),  # lies about its length
        lambda body: body.replace(b"octet-stream", b"octet-streak"),
        lambda body: body.replace(b"--Encrypted Boundary--", b"--Encrypted Boundary-X"),
        lambda body: body.replace(PROTOCOL.encode(), b"application/other"),
    ],
)
def test_a_damaged_sealed_answer_is_refused(contexts, damage) -> None:  # type: ignore[no-untyped-def]
    client, acceptor = contexts
    answer, _ = acceptor.wrap(b"<env:Envelope>answer</env:Envelope>")
    with pytest.raises(SealedMessageError):
        unseal(client.unwrap_winrm, damage(answer), PROTOCOL)


# --- answers no Windows host writes ----------------------------------------------------------


class RawServer:
    """Accepts connections on loopback and answers each request with canned bytes."""

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.answers:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                while self.answers:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        request += chunk
                    if not request:
                        break
                    head, _, body = request.partition(b"\r\n\r\n")
                    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                    while len(body) < length:
                        body += conn.recv(65536)
                    conn.sendall(self.answers.pop(0))
                    if b"Connection: close" in head:
                        break

    def close(self) -> None:
        self.answers.clear()
        self.sock.close()


def basic_http(port: int) -> WSManHTTP:
    target = HttpTarget("http", "127.0.0.1", port, "basic", "Administrator", PASSWORD, False)
    return WSManHTTP(target, read_timeout=5)


@pytest.mark.parametrize(
    ("answer", "body"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", b"hello"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nhel\r\n2\r\nlo\r\n0\r\n"
            b"Trailer: 1\r\n\r\n",
            b"hello",
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", b"ok"),
        (b"HTTP/1.0 200 OK\r\n\r\nto the end", b"to the end"),
    ],
)
def test_answers_in_every_framing_http_allows_are_read(answer: bytes, body: bytes) -> None:
    server = RawServer([answer])
    link = basic_http(server.port)
    try:
        assert link.send_message("<x/>") == body
    finally:
        link.close_session()
        server.close()


@pytest.mark.parametrize(
    ("answer", "error", "words"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", ProtocolError, "HTTP/1.x status line"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70000 + b"\r\n\r\n", ProtocolError, "too long"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", ConnectError, "cut short"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx", ProtocolError, "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", ProtocolError, "header line"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", ProtocolError, "chunk"),
    ],
)
def test_answers_that_are_not_http_are_errors_that_say_so(
    answer: bytes, error: type[Exception], words: str
) -> None:
    server = RawServer([answer])
    link = basic_http(server.port)
    try:
        with pytest.raises(error, match=words) as caught:
            link.send_message("<x/>")
        assert getattr(caught.value, "connection_broke", False)
        assert PASSWORD not in str(caught.value)
    finally:
        link.close_session()
        server.close()


def test_a_closed_keep_alive_connection_is_noticed_before_the_next_request() -> None:
    """The host answers once and closes: the next message goes on a new connection."""
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server = RawServer([ok, ok])
    link = basic_http(server.port)
    try:
        assert link.send_message("<x/>") == b"ok"
        first = link._connection
        assert first is not None
        first.sock.shutdown(socket.SHUT_RD)  # as if the host closed it: end of file readable
        assert link.send_message("<x/>") == b"ok"
        assert link._connection is not first
    finally:
        link.close_session()
        server.close()


def test_a_refused_connection_is_unreachable_and_names_the_endpoint() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    link = basic_http(port)
    with pytest.raises(ConnectError, match=rf"cannot connect to http://127.0.0.1:{port}/wsman"):
        link.send_message("<x/>")
