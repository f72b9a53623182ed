"""The lab answers the project's declared scripts by name and arguments, never by their code."""

from __future__ import annotations

import json

import pytest
from winrm.exceptions import WinRMOperationTimeoutError

from remediate.lab.answers import execution
from remediate.lab.answers.execution import Execution
from remediate.lab.host import LabHost
from remediate.lab.server import Lab
from remediate.probes.protocol import DeclaredScript, powershell_arguments_line
from tests.lab.test_winrm_clients import PS_STDIN, protocol, run

HOSTILE = ["a'b", 'c"d', "$(Remove-Item C:\\)", "`whoami`", "x; exit 3", "line1\nline2"]


@pytest.fixture
def echo_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    def answer(host: LabHost, declared: DeclaredScript) -> Execution:
        document = {"host": host.name, "arguments": declared.arguments}
        return Execution(stdout=json.dumps(document).encode() + b"\r\n")

    monkeypatch.setitem(execution.HANDLERS, "test.echo", answer)


def declared(arguments: object, name: str = "test.echo") -> bytes:
    code = "Write-Output 'this code is never interpreted by the lab'"
    lines = [f"# remediate-script: {name} v1", powershell_arguments_line(arguments), code]
    return "\n".join(lines).encode()


def test_arguments_arrive_as_data(lab: Lab, echo_handler: None) -> None:
    out, err, code = run(protocol(lab), "powershell.exe", tuple(PS_STDIN), declared(HOSTILE))
    assert code == 0, err
    assert json.loads(out)["arguments"] == HOSTILE
    received = lab.host("ex2003.lab.local").received[-1]
    assert (received.name, received.arguments, received.transport) == (
        "test.echo",
        HOSTILE,
        "winrm",
    )


def test_unknown_script_fails_like_a_script_error(lab: Lab) -> None:
    out, err, code = run(protocol(lab), "powershell.exe", tuple(PS_STDIN), declared([], "nope"))
    assert code == 1 and out == b""
    assert b"no model for script 'nope'" in err


def test_damaged_arguments_line_is_an_error(lab: Lab, echo_handler: None) -> None:
    script = b"# remediate-script: test.echo v1\n$RemediateArgs = 'bm90IGpzb24='\n"
    _, err, code = run(protocol(lab), "powershell.exe", tuple(PS_STDIN), script)
    assert code == 1
    assert b"arguments unreadable" in err


def test_other_scripts_get_the_powershell_error(lab: Lab) -> None:
    _, err, code = run(protocol(lab), "powershell.exe", tuple(PS_STDIN), b"Get-Process\n")
    assert code == 1
    assert b"The term 'Get-Process' is not recognized" in err


def test_corrupt_output_fault_damages_declared_output(lab: Lab, echo_handler: None) -> None:
    host = "corrupt.lab.local"
    out, _, code = run(protocol(lab, host), "powershell.exe", tuple(PS_STDIN), declared(HOSTILE))
    assert code == 0
    with pytest.raises(ValueError):
        json.loads(out)
    clean = run(protocol(lab, host), "hostname")[0]
    assert clean == b"CORRUPT\r\n"  # plain commands are not touched


def test_slow_probe_outlasts_the_operation_timeout(lab: Lab, echo_handler: None) -> None:
    p = protocol(lab, "slowprobe.lab.local", operation_timeout_sec=1, read_timeout_sec=5)
    shell = p.open_shell()
    try:
        command_id = p.run_command(shell, "powershell.exe", PS_STDIN, console_mode_stdin=False)
        p.send_command_input(shell, command_id, declared([1]), end=True)
        with pytest.raises(WinRMOperationTimeoutError):
            p.get_command_output_raw(shell, command_id)
        out, _, code, done = p.get_command_output_raw(shell, command_id)
    finally:
        p.close_shell(shell)
    assert done and code == 0
    assert json.loads(out)["arguments"] == [1]
