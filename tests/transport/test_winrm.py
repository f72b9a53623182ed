"""The WinRM transport against the lab: retries, quotas, timeouts, certificates, secrets."""

from __future__ import annotations

import time

import pytest

from remediate.errors import (
    AuthenticationError,
    CertificateError,
    ConnectError,
    HostTimeoutError,
)
from remediate.lab.fleet import parse_fleet
from remediate.lab.server import Lab
from remediate.transport.winrm import CLEANUP_TIMEOUT, WinRMSettings, WinRMTransport
from tests.conftest import PASSWORD

SLOW_SCRIPT = "# remediate-script: collect v1\n$RemediateArgs = 'e30='\n"


def transport(lab: Lab, name: str, **overrides: object) -> WinRMTransport:
    endpoint = lab.endpoint(name)
    https = overrides.pop("https", False)
    settings = {
        "address": endpoint.address,
        "port": (endpoint.https_port if https else endpoint.http_port) or 1,
        "scheme": "https" if https else "http",
        "auth": "ntlm",
        "username": "LAB\\Administrator",
        "password": PASSWORD,
        "operation_timeout": 2,
        "read_timeout": 12,
        "retry_backoff": 0.05,
    }
    settings.update(overrides)
    return WinRMTransport(WinRMSettings(**settings), host=name)  # type: ignore[arg-type]


def test_runs_and_closes_its_one_shell(lab: Lab) -> None:
    link = transport(lab, "ex2003.lab.local")
    before = lab.counters("ex2003.lab.local")["shells_created"]
    assert link.run_command("hostname").stdout == b"EX2003\r\n"
    # PowerShell 2.0 in our code page 65001 shell writes the UTF-8 BOM first (framing drops it)
    assert link.run("whoami\n").stdout == b"\xef\xbb\xbflab\\administrator\r\n"
    link.close()
    link.close()  # twice is fine
    assert lab.counters("ex2003.lab.local")["shells_created"] == before + 1
    assert lab.counters("ex2003.lab.local")["shells_open"] == 0


def test_a_script_costs_five_requests_and_a_timed_out_one_is_signalled(lab: Lab) -> None:
    name = "ex2003.lab.local"
    link = transport(lab, name, auth="basic")
    before, signals = lab.counters(name)["requests"], lab.counters(name)["signals"]
    link.run("whoami\n")
    link.close()
    # Create, Command, Send, Receive, Delete: a command that reached Done needs no Signal.
    assert lab.counters(name)["requests"] - before == 5

    assert lab.counters(name)["signals"] == signals

    slow = transport(lab, "slowprobe.lab.local", operation_timeout=1, command_timeout=0.5)
    slow_signals = lab.counters("slowprobe.lab.local")["signals"]
    with pytest.raises(HostTimeoutError):
        slow.run(SLOW_SCRIPT)
    slow.close()
    assert lab.counters("slowprobe.lab.local")["signals"] == slow_signals + 1  # cut short


def test_down_host_is_unreachable_after_the_retries(lab: Lab) -> None:
    link = transport(lab, "down.lab.local", connect_retries=2)
    started = time.monotonic()
    with pytest.raises(ConnectError) as error:
        link.run_command("hostname")
    assert time.monotonic() - started >= 0.05 + 0.1  # two backoffs
    assert error.value.reason == "unreachable"
    assert error.value.host == "down.lab.local"


def test_a_host_coming_back_from_reboot_is_reached_by_a_retry(lab: Lab) -> None:
    lab.reboot("reboot.lab.local")
    time.sleep(0.8)  # the lab takes the host down half a second after the restart
    link = transport(lab, "reboot.lab.local", connect_retries=4, retry_backoff=0.3)
    try:
        assert link.run_command("hostname").stdout == b"REBOOT\r\n"
    finally:
        link.close()


def test_operations_quota_reopens_the_shell_once(lab: Lab) -> None:
    link = transport(lab, "ops.lab.local")
    try:
        outputs = [link.run_command("hostname").stdout for _ in range(5)]
    finally:
        link.close()
    assert outputs == [b"OPS\r\n"] * 5
    counters = lab.counters("ops.lab.local")
    assert counters["shells_created"] == 3 and counters["shells_open"] == 0
    assert counters["faults_sent"] >= 2


def test_receive_retries_until_the_command_timeout(lab: Lab) -> None:
    link = transport(lab, "slowprobe.lab.local", operation_timeout=1, command_timeout=0.5)
    try:
        with pytest.raises(HostTimeoutError, match=r"no result within 0\.5 s"):
            link.run(SLOW_SCRIPT)
    finally:
        link.close()
    assert lab.counters("slowprobe.lab.local")["shells_open"] == 0


def test_wrong_password_is_an_authentication_error_without_the_secret(lab: Lab) -> None:
    secret = "Not-The-Passw0rd"
    link = transport(lab, "ex2003.lab.local", password=secret, connect_retries=0)
    with pytest.raises(AuthenticationError) as error:
        link.run_command("hostname")
    assert secret not in str(error.value) and secret not in repr(error.value)


def test_https_validates_the_certificate(lab: Lab) -> None:
    trusted = transport(
        lab,
        "ex2003.lab.local",
        https=True,
        auth="basic",
        username="Administrator",
        ca_trust_path=str(lab.ca_path),
    )
    try:
        assert trusted.run_command("hostname").stdout == b"EX2003\r\n"
    finally:
        trusted.close()
    untrusted = transport(
        lab,
        "ex2003.lab.local",
        https=True,
        auth="basic",
        username="Administrator",
        connect_retries=0,
    )
    with pytest.raises(CertificateError):
        untrusted.run_command("hostname")


def test_a_shell_gone_from_the_host_is_not_an_error_on_close(lab: Lab) -> None:
    link = transport(lab, "ex2003.lab.local")
    link.run_command("hostname")
    lab.restart_winrm_service("ex2003.lab.local")
    link.close()
    assert lab.counters("ex2003.lab.local")["shells_open"] == 0


DYING_FLEET = """
address_base: 127.28.0.1
hosts:
  - name: dies.lab.local
    faults: {drop_mid_command: true}
"""


def test_a_connection_broken_mid_command_still_deletes_the_shell() -> None:
    """The host drops the connection in a Receive; the shell stays on it until the
    transport deletes it over a new, newly authenticated connection."""
    name = "dies.lab.local"
    with Lab(parse_fleet(DYING_FLEET, "dying.yml"), port_mode="ephemeral") as lab:
        link = transport(lab, name, connect_retries=0)
        with pytest.raises(ConnectError):
            link.run("whoami\n")
        assert lab.counters(name)["shells_open"] == 1  # the host still has it
        link.close()
        counters = lab.counters(name)
        assert counters["shells_open"] == 0
        assert counters["shells_deleted_after_break"] == 1
        # The transport is usable again on a clean session (the host drops it again).
        with pytest.raises(ConnectError):
            link.run("whoami\n")
        link.close()
        assert lab.counters(name)["shells_open"] == 0
        assert lab.counters(name)["shells_deleted_after_break"] == 2


def test_deleting_after_a_break_is_one_short_attempt_and_never_raises() -> None:
    """After the break the host stops answering at all: close() gives up within the
    cleanup timeout instead of waiting a full read timeout per request."""
    name = "dies.lab.local"
    with Lab(parse_fleet(DYING_FLEET, "dying.yml"), port_mode="ephemeral") as lab:
        link = transport(lab, name, connect_retries=0, read_timeout=30, operation_timeout=20)
        with pytest.raises(ConnectError):
            link.run("whoami\n")
        lab.host(name).spec.faults.blackhole = True
        started = time.monotonic()
        link.close()  # no exception
        assert time.monotonic() - started < CLEANUP_TIMEOUT + 2
        assert lab.counters(name)["shells_open"] == 1  # it tried; the host never answered
