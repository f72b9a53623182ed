"""Real WinRM clients (pywinrm, pypsrp) against the lab over real sockets."""

from __future__ import annotations

import base64

import pytest
import requests
from winrm.exceptions import InvalidCredentialsError, WinRMOperationTimeoutError, WSManFaultError
from winrm.protocol import Protocol

from remediate.lab.server import Lab
from tests.conftest import PASSWORD

HOST = "ex2003.lab.local"
PS_STDIN = ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-Command", "-"]


def protocol(lab: Lab, name: str = HOST, **options: object) -> Protocol:
    endpoint = lab.endpoint(name)
    scheme = options.pop("scheme", "http")
    port = endpoint.https_port if scheme == "https" else endpoint.http_port
    settings: dict[str, object] = {
        "endpoint": f"{scheme}://{endpoint.address}:{port}/wsman",
        "transport": "basic",
        "username": "Administrator",
        "password": PASSWORD,
        "operation_timeout_sec": 5,
        "read_timeout_sec": 10,
    }
    settings.update(options)
    return Protocol(**settings)  # type: ignore[arg-type]


def run(p: Protocol, command: str, args: tuple[str, ...] = (), stdin: bytes | None = None):
    shell = p.open_shell()
    try:
        # stdin fed through a pipe (WINRS_CONSOLEMODE_STDIN=FALSE): a console-mode stdin never
        # ends, in the lab as on Windows (tests/lab/test_winrs_options.py)
        command_id = p.run_command(shell, command, args, console_mode_stdin=stdin is None)
        if stdin is not None:
            p.send_command_input(shell, command_id, stdin, end=True)
        out, err, code = p.get_command_output(shell, command_id)
        p.cleanup_command(shell, command_id)
        return out, err, code
    finally:
        p.close_shell(shell)


def test_pywinrm_basic_over_http_runs_a_command(lab: Lab) -> None:
    out, err, code = run(protocol(lab), "hostname")
    assert (out, err, code) == (b"EX2003\r\n", b"", 0)
    assert lab.counters(HOST)["shells_open"] == 0


def test_exit_code_and_stderr_come_back(lab: Lab) -> None:
    assert run(protocol(lab), "exit", ("7",))[2] == 7
    _, err, code = run(protocol(lab), "nosuchprogram")
    assert code == 9009
    assert b"'nosuchprogram' is not recognized" in err


def test_pywinrm_ntlm_with_message_encryption_over_http(lab: Lab) -> None:
    p = protocol(lab, transport="ntlm", username="LAB\\Administrator", message_encryption="always")
    out, _, code = run(p, "whoami")
    assert (out, code) == (b"lab\\administrator\r\n", 0)


def test_ntlm_encrypts_the_wire(lab: Lab) -> None:
    """With NTLM over HTTP the SOAP travels sealed: no plain XML leaves the client."""
    p = protocol(lab, transport="ntlm", username="LAB\\Administrator", message_encryption="auto")
    sent: list[bytes] = []
    session = p.transport.build_session()
    original = session.send

    def spy(request: requests.PreparedRequest, **kwargs: object) -> requests.Response:
        sent.append(request.body if isinstance(request.body, bytes) else b"")
        return original(request, **kwargs)

    session.send = spy  # type: ignore[method-assign]
    assert run(p, "hostname")[0] == b"EX2003\r\n"
    bodies = [b for b in sent if b]
    assert bodies and all(b"Envelope" not in b for b in bodies)
    assert all(b"HTTP-SPNEGO-session-encrypted" in b for b in bodies)


def test_wrong_password_gets_401(lab: Lab) -> None:
    with pytest.raises(InvalidCredentialsError):
        protocol(lab, password="wrong").open_shell()
    with pytest.raises(InvalidCredentialsError):
        protocol(lab, transport="ntlm", password="wrong").open_shell()
    with pytest.raises(InvalidCredentialsError):
        protocol(lab, "nopass.lab.local").open_shell()


def test_unauthenticated_request_gets_challenges_and_empty_body(lab: Lab) -> None:
    endpoint = lab.endpoint(HOST)
    response = requests.post(
        f"http://{endpoint.address}:{endpoint.http_port}/wsman", data=b"<x/>", timeout=10
    )
    assert response.status_code == 401
    assert response.content == b""
    offers = response.raw.headers.getlist("WWW-Authenticate")
    assert offers == ["Negotiate", "Kerberos", 'Basic realm="WSMAN"']


def test_basic_over_https_validates_against_the_lab_ca(lab: Lab) -> None:
    good = protocol(lab, scheme="https", ca_trust_path=str(lab.ca_path))
    assert run(good, "hostname")[0] == b"EX2003\r\n"
    untrusted = protocol(lab, scheme="https", ca_trust_path="/etc/ssl/certs/ca-certificates.crt")
    with pytest.raises(requests.exceptions.SSLError):
        untrusted.open_shell()


def test_long_stdin_arrives_intact_in_several_sends(lab: Lab) -> None:
    line = "echo " + "x" * 90 + "\n"
    script = (line * 12_000).encode()  # about 1.1 MB
    assert len(script) > 1_000_000
    p = protocol(lab)
    shell = p.open_shell()
    try:
        command_id = p.run_command(shell, "powershell.exe", PS_STDIN, console_mode_stdin=False)
        chunk = 60_000
        for offset in range(0, len(script), chunk):
            last = offset + chunk >= len(script)
            p.send_command_input(shell, command_id, script[offset : offset + chunk], end=last)
        out, err, code = p.get_command_output(shell, command_id)
    finally:
        p.close_shell(shell)
    assert code == 0, err
    assert out == ("x" * 90 + "\r\n").encode() * 12_000


def test_receive_times_out_then_retry_succeeds(lab: Lab) -> None:
    p = protocol(lab, operation_timeout_sec=1, read_timeout_sec=5)
    shell = p.open_shell()
    try:
        command_id = p.run_command(shell, "powershell.exe", PS_STDIN, console_mode_stdin=False)
        with pytest.raises(WinRMOperationTimeoutError):
            p.get_command_output_raw(shell, command_id)
        p.send_command_input(shell, command_id, b"hostname\n", end=True)
        out, _, code, done = p.get_command_output_raw(shell, command_id)
    finally:
        p.close_shell(shell)
    assert (out, code, done) == (b"EX2003\r\n", 0, True)


def test_encoded_command_as_run_ps_sends_it(lab: Lab) -> None:
    encoded = base64.b64encode("hostname".encode("utf-16-le")).decode()
    out, _, code = run(protocol(lab), "powershell", ("-encodedcommand", encoded))
    assert (out, code) == (b"EX2003\r\n", 0)


def test_shell_quota_fault_and_delete_counts_down(lab: Lab) -> None:
    p = protocol(lab, "quota.lab.local")
    first, second = p.open_shell(), p.open_shell()
    assert lab.counters("quota.lab.local")["shells_open"] == 2
    with pytest.raises(WSManFaultError) as fault:
        p.open_shell()
    assert fault.value.wsman_fault_code == 2150859173
    assert fault.value.fault_subcode == "w:QuotaLimit"
    p.close_shell(first)
    third = p.open_shell()
    for shell in (second, third):
        p.close_shell(shell)
    assert lab.counters("quota.lab.local")["shells_open"] == 0


def test_unknown_shell_gives_invalid_selectors(lab: Lab) -> None:
    p = protocol(lab)
    with pytest.raises(WSManFaultError) as fault:
        p.close_shell("00000000-0000-0000-0000-000000000000")
    assert fault.value.wsman_fault_code == 2150858843
    assert fault.value.fault_subcode == "w:InvalidSelectors"


def test_signal_terminate_ends_a_waiting_command(lab: Lab) -> None:
    p = protocol(lab)
    shell = p.open_shell()
    try:
        command_id = p.run_command(shell, "powershell.exe", PS_STDIN)
        p.cleanup_command(shell, command_id)  # Signal terminate
        with pytest.raises(WSManFaultError) as fault:
            p.get_command_output_raw(shell, command_id)
        assert fault.value.wsman_fault_code == 2150858843
    finally:
        p.close_shell(shell)


def test_host_without_powershell_says_so(lab: Lab) -> None:
    # The Windows 2000 host has no WinRM at all: only SSH.
    assert lab.endpoint("w2k.lab.local").http_port is None
    assert lab.endpoint("w2k.lab.local").ssh_port is not None


def test_latency_fault_delays_every_request(lab: Lab) -> None:
    import time

    started = time.monotonic()
    run(protocol(lab, "slow.lab.local"), "hostname")
    # open, command, receive, signal, delete: five requests of 30 ms each at least
    assert time.monotonic() - started >= 0.15
