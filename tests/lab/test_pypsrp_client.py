"""pypsrp's WSMan/WinRS client, an independent implementation, against the lab."""

from __future__ import annotations

import pytest
from pypsrp.exceptions import AuthenticationError
from pypsrp.shell import Process, SignalCode, WinRS
from pypsrp.wsman import WSMan

from remediate.lab.server import Lab
from tests.conftest import PASSWORD

HOST = "ex2003.lab.local"


def wsman(lab: Lab, auth: str, password: str = PASSWORD, https: bool = False) -> WSMan:
    endpoint = lab.endpoint(HOST)
    return WSMan(
        endpoint.address,
        port=endpoint.https_port if https else endpoint.http_port,
        username="LAB\\Administrator" if auth != "basic" else "Administrator",
        password=password,
        ssl=https,
        auth=auth,
        cert_validation=str(lab.ca_path) if https else False,
        operation_timeout=5,
        connection_timeout=10,
        encryption="never" if auth == "basic" and not https else "auto",
    )


@pytest.mark.parametrize("auth", ["basic", "ntlm", "negotiate"])
def test_pypsrp_runs_a_command(lab: Lab, auth: str) -> None:
    with wsman(lab, auth) as client, WinRS(client) as shell:
        process = Process(shell, "hostname")
        process.invoke()
        process.signal(SignalCode.TERMINATE)
    assert (process.rc, process.stdout, process.stderr) == (0, b"EX2003\r\n", b"")


def test_pypsrp_feeds_stdin_and_reads_exit_code(lab: Lab) -> None:
    with wsman(lab, "ntlm") as client, WinRS(client) as shell:
        process = Process(shell, "powershell.exe", ["-NoProfile", "-Command", "-"])
        process.begin_invoke()
        process.send(b"whoami\r\nexit 4\r\n", end=True)
        process.end_invoke()
    assert process.rc == 4
    assert process.stdout == b"lab\\administrator\r\n"


def test_pypsrp_over_https_with_the_lab_ca(lab: Lab) -> None:
    with wsman(lab, "basic", https=True) as client, WinRS(client) as shell:
        process = Process(shell, "hostname")
        process.invoke()
    assert process.stdout == b"EX2003\r\n"


def test_pypsrp_wrong_password(lab: Lab) -> None:
    with pytest.raises(AuthenticationError), wsman(lab, "ntlm", password="nope") as client:
        WinRS(client).open()
