"""NegotiateAcceptor against the real client-side code of pyspnego, pywinrm and pypsrp."""

from __future__ import annotations

import base64
import inspect
from pathlib import Path

import pytest
import requests
import spnego
import spnego._ntlm
from pypsrp.encryption import WinRMEncryption
from requests.structures import CaseInsensitiveDict
from requests_ntlm import HttpNtlmAuth
from requests_ntlm.requests_ntlm import ShimSessionSecurity
from spnego.exceptions import OperationNotAvailableError
from winrm.encryption import Encryption

from remediate.lab.protocols import ntlm
from remediate.lab.protocols.ntlm import (
    ENCRYPTED_CONTENT_TYPE,
    AuthFailed,
    AuthStep,
    EncryptionError,
    NegotiateAcceptor,
    initial_challenge,
)

USER = "HOST\\admin"
PASSWORD = "S3cret-Lab!"
ENDPOINT = "http://127.0.0.1:5985/wsman"
SOAP = b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>'


class Passwords:
    """A host's user table that records every lookup."""

    def __init__(self, **users: str) -> None:
        self.users = {name.lower(): password for name, password in users.items()}
        self.calls: list[tuple[str, str]] = []

    def __call__(self, domain: str, user: str) -> str | None:
        self.calls.append((domain, user))
        return self.users.get(user.lower())


def ntlm_client(user: str = USER, password: str = PASSWORD) -> spnego.ContextProxy:
    """What requests_ntlm (pywinrm) and pypsrp auth="ntlm" build: raw NTLM."""
    return spnego.client(
        user,
        password,
        hostname="127.0.0.1",
        service="http",
        protocol="ntlm",
        options=spnego.NegotiateOptions.use_ntlm,
    )


def negotiate_client(user: str = USER, password: str = PASSWORD) -> spnego.ContextProxy:
    """What pypsrp auth="negotiate" with encryption builds: SPNEGO-wrapped NTLM."""
    return spnego.client(
        user,
        password,
        hostname="127.0.0.1",
        service="host",
        protocol="negotiate",
        options=spnego.NegotiateOptions.wrapping_winrm,
    )


def header(scheme: str, token: bytes) -> str:
    return f"{scheme} {base64.b64encode(token).decode()}"


def authenticate(
    acceptor: NegotiateAcceptor, client: spnego.ContextProxy, scheme: str = "Negotiate"
) -> AuthStep:
    """Run the HTTP legs until the acceptor is done; returns the last AuthStep."""
    in_token: bytes | None = None
    for _ in range(4):
        out_token = client.step(in_token)
        assert out_token is not None
        step = acceptor.step(header(scheme, out_token))
        if step.www_authenticate is not None:
            answer_scheme, _, b64 = step.www_authenticate.partition(" ")
            assert answer_scheme == scheme
            in_token = base64.b64decode(b64)
        if step.done:
            if step.www_authenticate is not None:
                assert client.step(in_token) is None  # the client accepts the final mechListMIC
            assert client.complete
            return step
        assert step.www_authenticate is not None
    raise AssertionError("handshake did not finish")


def authenticated(
    client: spnego.ContextProxy | None = None, **users: str
) -> tuple[NegotiateAcceptor, spnego.ContextProxy]:
    client = client or ntlm_client()
    acceptor = NegotiateAcceptor(Passwords(**(users or {"admin": PASSWORD})))
    authenticate(acceptor, client)
    return acceptor, client


# --- authentication ----------------------------------------------------------------------------


def test_initial_challenge_follows_windows_order() -> None:
    assert initial_challenge() == ["Negotiate", "Kerberos"]
    assert initial_challenge(basic=True, credssp=True) == [
        "Negotiate",
        "Kerberos",
        'Basic realm="WSMAN"',
        "CredSSP",
    ]
    assert initial_challenge(kerberos=False, basic=True) == ["Negotiate", 'Basic realm="WSMAN"']


@pytest.mark.parametrize("scheme", ["Negotiate", "NTLM"])
def test_raw_ntlm_authenticates_and_echoes_the_scheme(scheme: str) -> None:
    passwords = Passwords(admin=PASSWORD)
    acceptor = NegotiateAcceptor(passwords)
    client = ntlm_client()

    first = acceptor.step(header(scheme, client.step()))
    assert first == AuthStep(done=False, www_authenticate=first.www_authenticate, username=None)
    assert first.www_authenticate is not None
    assert first.www_authenticate.startswith(f"{scheme} TlRMTVNTUAACAAAA")  # CHALLENGE_MESSAGE
    assert not acceptor.complete

    challenge = base64.b64decode(first.www_authenticate.split(" ", 1)[1])
    final = acceptor.step(header(scheme, client.step(challenge)))
    assert final == AuthStep(done=True, www_authenticate=None, username=USER)
    assert acceptor.complete and acceptor.username == USER
    assert passwords.calls == [("HOST", "admin")]


def test_spnego_returns_the_final_mech_list_mic_token() -> None:
    acceptor = NegotiateAcceptor(Passwords(admin=PASSWORD))
    client = negotiate_client()
    first = acceptor.step(header("Negotiate", client.step()))
    assert first.www_authenticate is not None
    token = base64.b64decode(first.www_authenticate.split(" ", 1)[1])
    assert token[0] == 0xA1  # NegTokenResp
    neg_state = token[token.index(b"\xa0\x03\x0a\x01") + 4]
    assert neg_state == 1  # accept-incomplete, like Windows (not request-mic = 3)

    final = acceptor.step(header("Negotiate", client.step(token)))
    assert final.done and final.username == USER
    # Windows answers the 200 with NegTokenResp{accept-completed, mechListMIC}.
    assert final.www_authenticate is not None
    final_token = base64.b64decode(final.www_authenticate.split(" ", 1)[1])
    # a1 1b 30 19 a0 03 0a 01 00 (accept-completed) a3 12 04 10 <NTLM signature, version 1>
    assert final_token[:17] == bytes.fromhex("a11b3019a0030a0100a3120410") + b"\x01\0\0\0"
    assert final.www_authenticate.startswith("Negotiate oRswGaADCgEAoxIEEAEAAA")
    assert client.step(final_token) is None
    assert client.complete


@pytest.mark.parametrize("make_client", [ntlm_client, negotiate_client])
def test_wrong_password_is_refused(make_client) -> None:
    acceptor = NegotiateAcceptor(Passwords(admin=PASSWORD))
    with pytest.raises(AuthFailed, match=r"HOST\\admin"):
        authenticate(acceptor, make_client(password="not-the-password"))
    assert not acceptor.complete
    # The same connection may try again and succeed.
    assert authenticate(acceptor, make_client()).username == USER


@pytest.mark.parametrize("make_client", [ntlm_client, negotiate_client])
def test_unknown_user_is_refused(make_client) -> None:
    passwords = Passwords(admin=PASSWORD)
    acceptor = NegotiateAcceptor(passwords)
    with pytest.raises(AuthFailed, match="unknown user"):
        authenticate(acceptor, make_client(user="HOST\\nobody"))
    assert passwords.calls == [("HOST", "nobody")]
    assert not acceptor.complete


def test_bare_user_name_gets_the_default_domain() -> None:
    passwords = Passwords(admin=PASSWORD)
    step = authenticate(
        NegotiateAcceptor(passwords, default_domain="WIN-LAB01"), ntlm_client(user="admin")
    )
    assert passwords.calls == [("", "admin")]
    assert step.username == "WIN-LAB01\\admin"
    assert authenticate(NegotiateAcceptor(passwords), ntlm_client(user="admin")).username == "admin"


def test_each_acceptor_uses_its_own_host_passwords() -> None:
    """Two hosts, same user name, different passwords, handshakes interleaved."""
    host_a = NegotiateAcceptor(Passwords(admin="password-of-a"))
    host_b = NegotiateAcceptor(Passwords(admin="password-of-b"))
    client_a = negotiate_client(password="password-of-a")
    client_b = ntlm_client(password="password-of-b")

    step_a = host_a.step(header("Negotiate", client_a.step()))
    step_b = host_b.step(header("Negotiate", client_b.step()))
    assert step_a.www_authenticate and step_b.www_authenticate
    token_a = client_a.step(base64.b64decode(step_a.www_authenticate.split()[1]))
    token_b = client_b.step(base64.b64decode(step_b.www_authenticate.split()[1]))
    assert token_a and token_b
    assert host_b.step(header("Negotiate", token_b)).username == USER
    assert host_a.step(header("Negotiate", token_a)).username == USER

    with pytest.raises(AuthFailed):
        authenticate(
            NegotiateAcceptor(Passwords(admin="password-of-b")),
            ntlm_client(password="password-of-a"),
        )


def test_ntlm_user_file_is_not_consulted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user_file = tmp_path / "ntlm_users"
    user_file.write_text("HOST:admin:from-the-file\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(user_file))
    assert authenticate(NegotiateAcceptor(Passwords(admin=PASSWORD)), ntlm_client()).done
    with pytest.raises(AuthFailed):
        authenticate(NegotiateAcceptor(Passwords(admin=PASSWORD)), ntlm_client("from-the-file"))


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic YWRtaW46cHc=",
        "Kerberos YIIBhQYJKoZIhvcSAQICAQBu",
        "Negotiate",
        "Negotiate !!!not-base64!!!",
        "Negotiate " + base64.b64encode(b"\x60garbage that is not SPNEGO").decode(),
        "NTLM " + base64.b64encode(b"NTLMSSP\x00\x01\x00\x00\x00short").decode(),
        "NTLM " + base64.b64encode(b"NTLMSSP\x00\x03\x00\x00\x00").decode(),
    ],
)
def test_invalid_authorization_is_refused(authorization: str) -> None:
    acceptor = NegotiateAcceptor(Passwords(admin=PASSWORD))
    with pytest.raises(AuthFailed):
        acceptor.step(authorization)
    assert not acceptor.complete


def test_authenticate_message_on_another_connection_is_refused() -> None:
    first = NegotiateAcceptor(Passwords(admin=PASSWORD))
    client = ntlm_client()
    step = first.step(header("Negotiate", client.step()))
    assert step.www_authenticate
    authenticate_message = client.step(base64.b64decode(step.www_authenticate.split()[1]))
    assert authenticate_message
    with pytest.raises(AuthFailed, match="without a handshake"):
        NegotiateAcceptor(Passwords(admin=PASSWORD)).step(header("Negotiate", authenticate_message))


def test_reauthentication_on_the_same_connection_replaces_the_keys() -> None:
    acceptor, old_client = authenticated()
    old_body = WinRMEncryption(old_client, WinRMEncryption.SPNEGO).wrap_message(SOAP)[1]
    new_client = negotiate_client()
    assert authenticate(acceptor, new_client).done
    new_body = WinRMEncryption(new_client, WinRMEncryption.SPNEGO).wrap_message(SOAP)[1]
    assert acceptor.unwrap(new_body, ENCRYPTED_CONTENT_TYPE) == SOAP
    with pytest.raises(EncryptionError, match="signature"):
        acceptor.unwrap(old_body, ENCRYPTED_CONTENT_TYPE)


def test_pyspnego_private_hook_still_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails loudly if pyspnego changes the private functions our credential hook wraps."""
    assert getattr(spnego._ntlm._get_credential, "_remediate_hook", False)
    assert getattr(spnego._ntlm._get_credential_file, "_remediate_hook", False)
    original = inspect.getclosurevars(spnego._ntlm._get_credential).nonlocals["original_credential"]
    assert list(inspect.signature(original).parameters) == ["store", "domain", "username"]
    source = inspect.getsource(spnego._ntlm)
    assert "_NTLMCredential(CredentialCache(username=username))" in source
    assert "_get_credential(self._store, domain, username)" in source
    assert "if not _get_credential_file():" in source
    # Outside NegotiateAcceptor.step the hook is inert: pyspnego behaves as shipped.
    monkeypatch.delenv("NTLM_USER_FILE", raising=False)
    with pytest.raises(OperationNotAvailableError, match="NTLM_USER_FILE"):
        spnego.server(protocol="ntlm", options=spnego.NegotiateOptions.use_ntlm)
    authenticated()
    assert ntlm._active_lookup.get() is None


# --- message encryption ------------------------------------------------------------------------


def pywinrm_encryption(client: spnego.ContextProxy) -> tuple[Encryption, requests.Session]:
    """pywinrm's Encryption exactly as Transport.setup_encryption builds it for NTLM."""
    session = requests.Session()
    auth = HttpNtlmAuth(USER, PASSWORD)
    auth.session_security = ShimSessionSecurity(client)
    session.auth = auth
    return Encryption(session, "ntlm"), session


def pywinrm_response(body: bytes, content_type: str) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.headers = CaseInsensitiveDict({"Content-Type": content_type})
    response._content = body
    response.request = requests.Request("POST", ENDPOINT).prepare()
    return response


def test_round_trip_with_pywinrm_encryption() -> None:
    acceptor, client = authenticated(ntlm_client())
    encryption, session = pywinrm_encryption(client)
    for size in (1, 3, 40_000):  # also > 16 KiB: still one multipart/encrypted part
        request_xml = SOAP * size
        prepared = encryption.prepare_encrypted_request(session, ENDPOINT, request_xml)
        assert prepared.headers["Content-Type"] == ENCRYPTED_CONTENT_TYPE
        assert isinstance(prepared.body, bytes)
        assert acceptor.unwrap(prepared.body, prepared.headers["Content-Type"]) == request_xml

        answer = b"<answer>" + b"x" * size + b"</answer>"
        body, content_type = acceptor.wrap(answer)
        assert encryption.parse_encrypted_response(pywinrm_response(body, content_type)) == answer


@pytest.mark.parametrize("make_client", [negotiate_client, ntlm_client])
def test_round_trip_with_pypsrp_encryption(make_client) -> None:
    acceptor, client = authenticated(make_client())
    encryption = WinRMEncryption(client, WinRMEncryption.SPNEGO)
    for size in (1, 20_000):
        content_type, payload = encryption.wrap_message(SOAP * size)
        header_value = (
            f'{content_type};protocol="{encryption.protocol}";boundary="Encrypted Boundary"'
        )
        assert header_value == ENCRYPTED_CONTENT_TYPE
        assert acceptor.unwrap(payload, header_value) == SOAP * size

        body, response_type = acceptor.wrap(b"<r>%d</r>" % size)
        assert response_type.startswith("multipart/encrypted;")  # what pypsrp checks
        assert encryption.unwrap_message(body, "Encrypted Boundary") == b"<r>%d</r>" % size


def test_wrap_lays_out_the_body_like_windows() -> None:
    acceptor, _ = authenticated()
    body, content_type = acceptor.wrap(SOAP)
    assert content_type == (
        'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";'
        'boundary="Encrypted Boundary"'
    )
    head = (
        b"--Encrypted Boundary\r\n"
        b"\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
        b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=%d\r\n"
        b"--Encrypted Boundary\r\n"
        b"\tContent-Type: application/octet-stream\r\n"
        b"\x10\x00\x00\x00" % len(SOAP)
    )
    assert body.startswith(head)
    assert body.endswith(b"--Encrypted Boundary--\r\n")
    assert len(body) == len(head) + 16 + len(SOAP) + len(b"--Encrypted Boundary--\r\n")
    assert SOAP not in body


def test_multi_encrypted_parts_are_accepted() -> None:
    acceptor, client = authenticated(negotiate_client())
    encryption = WinRMEncryption(client, WinRMEncryption.SPNEGO)
    chunks = [SOAP[:50], SOAP[50:]]
    body = b"".join(encryption._wrap_message(chunk) for chunk in chunks)
    body += b"--Encrypted Boundary--\r\n"
    multi = ENCRYPTED_CONTENT_TYPE.replace("multipart/encrypted", "multipart/x-multi-encrypted")
    assert acceptor.unwrap(body, multi) == SOAP


def sealed_request() -> tuple[NegotiateAcceptor, bytes, str]:
    acceptor, client = authenticated()
    encryption, session = pywinrm_encryption(client)
    prepared = encryption.prepare_encrypted_request(session, ENDPOINT, SOAP)
    assert isinstance(prepared.body, bytes)
    return acceptor, prepared.body, prepared.headers["Content-Type"]


def test_tampered_ciphertext_fails_the_signature_and_ends_the_session() -> None:
    acceptor, body, content_type = sealed_request()
    position = body.index(b"application/octet-stream\r\n") + 26 + 4 + 16 + 5
    tampered = body[:position] + bytes([body[position] ^ 0x01]) + body[position + 1 :]
    with pytest.raises(EncryptionError, match="signature"):
        acceptor.unwrap(tampered, content_type)
    assert not acceptor.complete
    with pytest.raises(EncryptionError, match="no authenticated"):
        acceptor.unwrap(body, content_type)


def test_tampered_signature_is_rejected() -> None:
    acceptor, body, content_type = sealed_request()
    position = body.index(b"application/octet-stream\r\n") + 26 + 4 + 10
    tampered = body[:position] + bytes([body[position] ^ 0xFF]) + body[position + 1 :]
    with pytest.raises(EncryptionError, match="signature"):
        acceptor.unwrap(tampered, content_type)


def test_replayed_message_is_rejected() -> None:
    acceptor, body, content_type = sealed_request()
    assert acceptor.unwrap(body, content_type) == SOAP
    with pytest.raises(EncryptionError):
        acceptor.unwrap(body, content_type)


def _length_plus_one(body: bytes) -> bytes:
    return body.replace(b"Length=%d" % len(SOAP), b"Length=%d" % (len(SOAP) + 1))


def _length_minus_one(body: bytes) -> bytes:
    return body.replace(b"Length=%d" % len(SOAP), b"Length=%d" % (len(SOAP) - 1))


@pytest.mark.parametrize(
    ("mangle_body", "mangle_type", "message"),
    [
        (_length_plus_one, None, "Length"),
        (_length_minus_one, None, "Length"),
        (lambda b: b.replace(b";Length=", b";Size="), None, "no Length"),
        (lambda b: b.replace(b"\tOriginalContent", b"\tOriginal"), None, "OriginalContent"),
        (lambda b: b[: -len(b"--Encrypted Boundary--\r\n")], None, "closing boundary"),
        (lambda b: b[:-30], None, "Length"),
        (lambda b: b.replace(b"HTTP-SPNEGO", b"HTTP-CredSSP", 1), None, "metadata"),
        (lambda b: b.replace(b"octet-stream", b"text-plain"), None, "octet-stream"),
        (lambda b: b.replace(b"stream\r\n\x10", b"stream\r\n\x0f"), None, "signature length"),
        (lambda b: b[:120], None, "truncated|octet-stream|boundary"),
        (lambda b: b"<s:Envelope/>", None, "expected '--Encrypted Boundary'"),
        (None, lambda t: "application/soap+xml;charset=UTF-8", "not multipart"),
        (None, lambda t: t.replace("SPNEGO", "Kerberos"), "protocol"),
        (None, lambda t: t.replace("Encrypted Boundary", "other"), "boundary"),
    ],
)
def test_malformed_bodies_are_rejected_without_touching_the_keys(
    mangle_body, mangle_type, message: str
) -> None:
    acceptor, body, content_type = sealed_request()
    bad_body = mangle_body(body) if mangle_body else body
    bad_type = mangle_type(content_type) if mangle_type else content_type
    with pytest.raises(EncryptionError, match=message):
        acceptor.unwrap(bad_body, bad_type)
    # Framing errors are found before decryption: the genuine message still opens.
    assert acceptor.complete
    assert acceptor.unwrap(body, content_type) == SOAP


def test_two_parts_need_multi_encrypted() -> None:
    acceptor, client = authenticated(negotiate_client())
    encryption = WinRMEncryption(client, WinRMEncryption.SPNEGO)
    body = encryption._wrap_message(b"<a/>") + encryption._wrap_message(b"<b/>")
    with pytest.raises(EncryptionError, match="Length"):
        acceptor.unwrap(body + b"--Encrypted Boundary--\r\n", ENCRYPTED_CONTENT_TYPE)


def test_sealing_needs_an_authenticated_connection() -> None:
    acceptor = NegotiateAcceptor(Passwords(admin=PASSWORD))
    with pytest.raises(EncryptionError, match="no authenticated"):
        acceptor.wrap(SOAP)
    with pytest.raises(EncryptionError, match="no authenticated"):
        acceptor.unwrap(b"--Encrypted Boundary\r\n", ENCRYPTED_CONTENT_TYPE)
