"""The lab's CredSSP acceptor against the real client library (requests-credssp over pyspnego).

These drive the acceptor with the client's own tokens and sealed bodies, as pywinrm builds them
(winrm.encryption): TLS inside CredSSP, NTLM inside that, the delegated password checked. The
end-to-end run over the lab's sockets is in tests/lab/test_winrm_clients.py.
"""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest
import requests_credssp
import spnego
from requests_credssp.credssp import CredSSPContext
from winrm.encryption import Encryption

from remediate.lab.protocols.credssp import CHUNK, CredSSPAcceptor
from remediate.lab.protocols.ntlm import AuthFailed, EncryptionError

PASSWORD = "Lab-Passw0rd!"
HOST = "ex01"


def _password_for(domain: str, user: str) -> str | None:
    return PASSWORD if user.lower() == "administrator" else None


def _handshake(client: object, acceptor: CredSSPAcceptor) -> None:
    """Feed the client's legs to the acceptor until it serves the request (its 200)."""
    generator = client.credssp_generator()  # type: ignore[attr-defined]
    token, _stage = next(generator)
    for _leg in range(10):
        step = acceptor.step(f"CredSSP {base64.b64encode(token).decode()}")
        if step.done:
            return
        assert step.www_authenticate is not None and step.www_authenticate.startswith("CredSSP ")
        token, _stage = generator.send(base64.b64decode(step.www_authenticate.split(" ", 1)[1]))
    pytest.fail("the CredSSP handshake did not end in 10 legs")


def _session(client: CredSSPContext) -> Encryption:
    session = SimpleNamespace(auth=SimpleNamespace(contexts={HOST: client}))
    return Encryption(session, "credssp")  # type: ignore[arg-type]


def test_credssp_logon_delegates_the_users_password() -> None:
    client = CredSSPContext(HOST, "LAB\\Administrator", PASSWORD, auth_mechanism="ntlm")
    acceptor = CredSSPAcceptor(_password_for, default_domain="EX01")
    _handshake(client, acceptor)
    assert acceptor.complete
    assert acceptor.username == "LAB\\Administrator"
    assert acceptor.delegated is not None and acceptor.delegated.username == "Administrator"
    assert PASSWORD not in repr(acceptor.delegated)


def test_wrong_password_is_refused_with_logon_denied() -> None:
    client = CredSSPContext(HOST, "LAB\\Administrator", "wrong", auth_mechanism="ntlm")
    acceptor = CredSSPAcceptor(_password_for)
    # [MS-CSSP] 2.2.1 errorCode (v3+): the host answers SEC_E_LOGON_DENIED and the client stops.
    with pytest.raises(requests_credssp.exceptions.NTStatusException, match="0x8009030c"):
        _handshake(client, acceptor)
    assert not acceptor.complete and acceptor.refused


def test_delegating_another_password_than_the_one_proven_is_refused() -> None:
    inner = spnego.client("LAB\\Administrator", PASSWORD, hostname=HOST, protocol="ntlm")
    context = spnego.client(
        "LAB\\Administrator",
        "not-the-password",
        hostname=HOST,
        protocol="credssp",
        credssp_negotiate_context=inner,
    )
    client = SimpleNamespace(
        credssp_generator=lambda: _raw_generator(context),
    )
    acceptor = CredSSPAcceptor(_password_for)
    with pytest.raises(AuthFailed, match="delegated password"):
        _handshake(client, acceptor)
    assert not acceptor.complete and acceptor.delegated is None


def _raw_generator(context: object):  # type: ignore[no-untyped-def]
    token = None
    while not context.complete:  # type: ignore[attr-defined]
        token = yield context.step(token), "raw"  # type: ignore[attr-defined]


def test_messages_over_16_kib_travel_in_chunks_both_ways() -> None:
    client = CredSSPContext(HOST, "LAB\\Administrator", PASSWORD, auth_mechanism="ntlm")
    acceptor = CredSSPAcceptor(_password_for)
    _handshake(client, acceptor)
    encryption = _session(client)
    soap = b"<s:Envelope>" + bytes(range(256)) * 200 + b"</s:Envelope>"  # 51 KB: four chunks
    request = encryption.prepare_encrypted_request(
        SimpleNamespace(prepare_request=lambda r: r.prepare()),  # type: ignore[arg-type]
        f"http://{HOST}:5985/wsman",
        soap,
    )
    content_type = request.headers["Content-Type"]
    assert content_type.startswith("multipart/x-multi-encrypted")
    assert acceptor.unwrap(request.body, content_type) == soap

    body, answer_type = acceptor.wrap(soap)
    assert answer_type.startswith("multipart/x-multi-encrypted")
    assert body.count(b"OriginalContent") == -(-len(soap) // CHUNK)
    response = SimpleNamespace(
        headers={"Content-Type": answer_type},
        content=body,
        request=SimpleNamespace(url=f"http://{HOST}:5985/wsman"),
    )
    assert encryption.parse_encrypted_response(response) == soap  # type: ignore[arg-type]


def test_a_tampered_or_mislabelled_body_is_refused() -> None:
    client = CredSSPContext(HOST, "LAB\\Administrator", PASSWORD, auth_mechanism="ntlm")
    acceptor = CredSSPAcceptor(_password_for)
    _handshake(client, acceptor)
    encryption = _session(client)
    request = encryption.prepare_encrypted_request(
        SimpleNamespace(prepare_request=lambda r: r.prepare()),  # type: ignore[arg-type]
        f"http://{HOST}:5985/wsman",
        b"<s:Envelope/>",
    )
    content_type = request.headers["Content-Type"]
    with pytest.raises(EncryptionError, match="want application/HTTP-CredSSP"):
        acceptor.unwrap(request.body, content_type.replace("CredSSP", "SPNEGO"))
    body = bytearray(request.body)
    body[body.index(b"\x17\x03") + 20] ^= 0xFF  # a bit inside the TLS record
    with pytest.raises(EncryptionError, match="TLS decryption failed"):
        acceptor.unwrap(bytes(body), content_type)


def test_garbage_tokens_are_refused_not_raised() -> None:
    acceptor = CredSSPAcceptor(_password_for)
    for header in ("CredSSP !!!", "CredSSP ", "Negotiate TlRMTVNTUAAB", "CredSSP AAAAAAAA"):
        with pytest.raises(AuthFailed):
            acceptor.step(header)
