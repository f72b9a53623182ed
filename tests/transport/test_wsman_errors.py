"""Faults, refusals and timeouts as both WinRM paths raise them; the lean path's imports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from remediate.lab.server import Lab
from remediate.transport.wsman_errors import (
    OPERATION_TIMED_OUT,
    HttpStatusError,
    OperationTimedOut,
    WSManFault,
    raise_for_status,
)
from tests.conftest import PASSWORD

SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSMANFAULT = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"


def fault(code: str | None, reason: str = "The WS-Management service cannot process it.") -> bytes:
    detail = f'<f:WSManFault xmlns:f="{WSMANFAULT}" Code="{code}"/>' if code is not None else ""
    return (
        f'<s:Envelope xmlns:s="{SOAP}"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value>'
        f'</s:Code><s:Reason><s:Text xml:lang="en-US"> {reason} </s:Text></s:Reason>'
        f"<s:Detail>{detail}</s:Detail></s:Fault></s:Body></s:Envelope>"
    ).encode()


def test_a_fault_gives_its_code_and_reason() -> None:
    with pytest.raises(WSManFault) as raised:
        raise_for_status(500, fault("2150859174", "quota"))
    assert (raised.value.code, raised.value.reason) == (2150859174, "quota")


def test_the_operation_timeout_fault_means_ask_again() -> None:
    with pytest.raises(OperationTimedOut):
        raise_for_status(500, fault(str(OPERATION_TIMED_OUT)))


def test_a_fault_without_a_code_is_still_a_fault() -> None:
    with pytest.raises(WSManFault) as raised:
        raise_for_status(500, fault(None))
    assert raised.value.code is None


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html>Internal Server Error</html>",
        b"not xml at all",
        f'<s:Envelope xmlns:s="{SOAP}"><s:Body/></s:Envelope>'.encode(),
        b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',
    ],
)
def test_an_error_body_that_is_no_fault_is_the_http_status(body: bytes) -> None:
    with pytest.raises(HttpStatusError, match="HTTP 503"):
        raise_for_status(503, body)


LEAN_RUN = """
import json, sys
from remediate.transport.winrm import WinRMSettings, WinRMTransport
settings = WinRMSettings(**json.loads(sys.argv[1]))
link = WinRMTransport(settings, host="ex2003.lab.local")
out = link.run_command("hostname").stdout.decode()
link.close()
libraries = ("winrm", "requests", "urllib3", "spnego", "gssapi")
print(json.dumps([out, sorted(m for m in libraries if m in sys.modules)]))
"""


@pytest.mark.parametrize(("auth", "loaded"), [("basic", []), ("ntlm", ["spnego"])])
def test_a_basic_or_ntlm_host_never_loads_pywinrm_or_requests(
    lab: Lab, auth: str, loaded: list[str]
) -> None:
    endpoint = lab.endpoint("ex2003.lab.local")
    settings = {
        "address": endpoint.address,
        "port": endpoint.http_port,
        "scheme": "http",
        "auth": auth,
        "username": "LAB\\Administrator",
        "password": PASSWORD,
    }
    done = subprocess.run(
        [sys.executable, "-c", LEAN_RUN, json.dumps(settings)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    hostname, libraries = json.loads(done.stdout)
    assert hostname.strip() == "EX2003"
    # pyspnego loads python-gssapi where it is installed, to see what it offers.
    assert [m for m in libraries if m != "gssapi"] == loaded
