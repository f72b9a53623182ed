"""What the lab's WinRS honours of what it is asked: stdin mode, code page, WinRM versions,
their ports and quotas, and fleet text Windows could not hold (issue 13)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from winrm.exceptions import WinRMOperationTimeoutError, WSManFaultError
from winrm.protocol import Protocol

from remediate.lab.answers import execution
from remediate.lab.answers.execution import Execution
from remediate.lab.fleet import FleetError, parse_fleet
from remediate.lab.host import LabHost
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab
from remediate.probes.collect import CollectRequest, EventQuery, build_collect_script
from remediate.probes.framing import parse_output
from remediate.probes.protocol import DeclaredScript, powershell_arguments_line
from tests.conftest import PASSWORD, lab_winrm

PS_STDIN = ["-NoProfile", "-NonInteractive", "-Command", "-"]
FLEET = """
name: options
address_base: 127.23.0.1
hosts:
  - name: ps2.lab.local
    description: Windows 2003 with WMF 2.0, WinRM 2.0 and PowerShell 2.0 (the default)
  - name: w2012.lab.local
    os: {caption: Windows Server 2012 R2, version: 6.3.9600, build: 9600, service_pack: 0,
         powershell: "4.0"}
  - name: tinyquota.lab.local
    endpoints: {max_memory_per_shell_mb: 1}
  - name: bigevents.lab.local
    event_logs:
      generators:
        - {log: Application, source: MSExchangeIS, event_id: 9646, count: 100000,
           every_seconds: 30, message: "Mapi session exceeded the maximum of 500 objects"}
"""


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(parse_fleet(FLEET, "options.yml"), port_mode="ephemeral") as running:
        yield running


def protocol(lab: Lab, host: str) -> Protocol:
    endpoint = lab.endpoint(host)
    return Protocol(
        endpoint=f"http://{endpoint.address}:{endpoint.http_port}/wsman",
        transport="basic",
        username="Administrator",
        password=PASSWORD,
        operation_timeout_sec=1,
        read_timeout_sec=5,
    )


def run(
    lab: Lab,
    host: str,
    command: str,
    args: tuple[str, ...] = (),
    *,
    stdin: bytes | None = None,
    code_page: int = 65001,
) -> tuple[bytes, bytes, int]:
    p = protocol(lab, host)
    shell = p.open_shell(codepage=code_page)
    try:
        command_id = p.run_command(shell, command, args, console_mode_stdin=stdin is None)
        if stdin is not None:
            p.send_command_input(shell, command_id, stdin, end=True)
        out, err, code = p.get_command_output(shell, command_id)
        p.cleanup_command(shell, command_id)
        return out, err, code
    finally:
        p.close_shell(shell)


# -- stdin mode ------------------------------------------------------------------------------


def test_console_mode_stdin_never_ends_pipe_mode_does(lab: Lab) -> None:
    p = protocol(lab, "ps2.lab.local")
    shell = p.open_shell(codepage=65001)
    try:
        console = p.run_command(shell, "powershell.exe", PS_STDIN, console_mode_stdin=True)
        p.send_command_input(shell, console, b"hostname\r\n", end=True)
        with pytest.raises(WinRMOperationTimeoutError):
            p.get_command_output_raw(shell, console)  # still waiting for the end of its input
        p.cleanup_command(shell, console)
        pipe = p.run_command(shell, "powershell.exe", PS_STDIN, console_mode_stdin=False)
        p.send_command_input(shell, pipe, b"hostname\r\n", end=True)
        out, _, code, done = p.get_command_output_raw(shell, pipe)
    finally:
        p.close_shell(shell)
    assert (out, code, done) == (b"\xef\xbb\xbfPS2\r\n", 0, True)


def test_the_transport_feeds_its_scripts_through_a_pipe(lab: Lab) -> None:
    # With console mode the collector would never start: HostTimeoutError after 3 s.
    transport = lab_winrm(lab, "ps2.lab.local", operation_timeout=1, command_timeout=3.0)
    try:
        result = transport.run(build_collect_script(CollectRequest(), "powershell"))
    finally:
        transport.close()
    assert result.exit_code == 0
    facts = {r.get("name"): r.get("value") for r in parse_output(result.stdout, "collect")}
    assert facts["hostname"] == "PS2"


# -- code page and the UTF-8 preamble of PowerShell 2.0 ---------------------------------------


def test_output_comes_in_the_shells_code_page(lab: Lab) -> None:
    _, err_437, _ = run(lab, "w2012.lab.local", "nosuchprogram\u00e9", code_page=437)
    _, err_utf8, _ = run(lab, "w2012.lab.local", "nosuchprogram\u00e9", code_page=65001)
    assert b"'nosuchprogram\x82'" in err_437  # é is 0x82 in code page 437
    assert "'nosuchprogram\u00e9'".encode() in err_utf8


def test_powershell_2_writes_a_bom_at_65001_only(lab: Lab) -> None:
    ps2_utf8 = run(lab, "ps2.lab.local", "powershell.exe", tuple(PS_STDIN), stdin=b"hostname\n")
    ps2_437 = run(
        lab, "ps2.lab.local", "powershell.exe", tuple(PS_STDIN), stdin=b"hostname\n", code_page=437
    )
    ps4 = run(lab, "w2012.lab.local", "powershell.exe", tuple(PS_STDIN), stdin=b"hostname\n")
    assert ps2_utf8[0] == b"\xef\xbb\xbfPS2\r\n"
    assert ps2_437[0] == b"PS2\r\n"
    assert ps4[0] == b"W2012\r\n"


# -- WinRM versions: ports, shell and memory quotas -------------------------------------------


def test_winrm_version_and_quotas_follow_the_os() -> None:
    fleet = parse_fleet(
        """
hosts:
  - name: ps2
  - name: winrm11
    os: {powershell: null}
  - name: w2008
    os: {version: 6.0.6002, build: 6002, powershell: "1.0"}
  - name: w2008r2
    os: {version: 6.1.7601, build: 7601, powershell: "2.0"}
  - name: w2012
    os: {version: 6.2.9200, build: 9200, powershell: "3.0"}
  - name: raised
    endpoints: {max_shells_per_user: 25}
""",
        "versions.yml",
    )
    seen = {
        h.name: (
            h.endpoints.winrm_version,
            h.endpoints.standard_ports,
            h.endpoints.max_shells_per_user,
            h.endpoints.max_memory_per_shell_mb,
        )
        for h in fleet.hosts
    }
    assert seen == {
        "ps2": ("2.0", (5985, 5986), 5, 150),
        "winrm11": ("1.1", (80, 443), 5, 150),
        "w2008": ("1.1", (80, 443), 5, 150),
        "w2008r2": ("2.0", (5985, 5986), 5, 150),
        "w2012": ("3.0", (5985, 5986), 30, 1024),
        "raised": ("2.0", (5985, 5986), 25, 150),
    }


def test_winrm_2_allows_five_shells_per_user(lab: Lab) -> None:
    p = protocol(lab, "ps2.lab.local")
    shells = [p.open_shell() for _ in range(5)]
    try:
        with pytest.raises(WSManFaultError) as fault:
            p.open_shell()
        assert fault.value.wsman_fault_code == 2150859173  # ERROR_WSMAN_QUOTA_MAX_SHELLS
    finally:
        for shell in shells:
            p.close_shell(shell)


def test_standard_ports_follow_the_winrm_version(tmp_path: Path) -> None:
    fleet = parse_fleet(
        """
address_base: 127.24.0.1
hosts:
  - name: winrm11.lab.local
    os: {powershell: null}
    endpoints: {ssh: false}
  - name: winrm2.lab.local
    endpoints: {ssh: false}
""",
        "ports.yml",
    )
    with Lab(fleet, port_mode="standard", admin_port=None) as running:
        old, new = running.endpoint("winrm11.lab.local"), running.endpoint("winrm2.lab.local")
        assert (old.http_port, old.https_port) == (80, 443)
        assert (new.http_port, new.https_port) == (5985, 5986)
        inventory = write_inventory(running, tmp_path / "hosts.ini").read_text()
    assert "winrm11.lab.local ansible_host=127.24.0.1 ansible_port=80" in inventory
    assert "winrm2.lab.local ansible_host=127.24.0.2 ansible_port=5985" in inventory


@pytest.fixture
def chatty_handler() -> Iterator[None]:
    previous = execution.HANDLERS.get("lab_chatty")

    def answer(host: LabHost, declared: DeclaredScript) -> Execution:
        return Execution(stdout=b"x" * (1024 * 1024 + 1))

    execution.HANDLERS["lab_chatty"] = answer
    yield
    if previous is None:
        execution.HANDLERS.pop("lab_chatty", None)
    else:
        execution.HANDLERS["lab_chatty"] = previous


def test_output_beyond_the_memory_quota_fails_the_program(lab: Lab, chatty_handler: None) -> None:
    script = f"# remediate-script: lab_chatty v1\n{powershell_arguments_line([])}\n".encode()
    out, err, code = run(
        lab, "tinyquota.lab.local", "powershell.exe", tuple(PS_STDIN), stdin=script
    )
    assert (out, code) == (b"", 1)
    assert b"OutOfMemoryException" in err


def test_a_big_event_collection_stays_within_winrm_2s_memory_quota(lab: Lab) -> None:
    request = CollectRequest(
        events=(EventQuery(id="is9646", log="Application", event_ids=(9646,), max_samples=50),)
    )
    transport = lab_winrm(lab, "bigevents.lab.local")
    try:
        result = transport.run(build_collect_script(request, "powershell"))
    finally:
        transport.close()
    assert result.exit_code == 0, result.stderr
    quota = lab.host("bigevents.lab.local").spec.endpoints.max_memory_per_shell_mb
    assert quota == 150
    assert len(result.stdout) < 1024 * 1024  # samples, not the 100,000 records
    kinds = [r.kind for r in parse_output(result.stdout, "collect")]
    assert kinds.count("events") == 1
    assert kinds.count("event") == 50


# -- fleet text Windows could not hold --------------------------------------------------------


def test_a_lone_surrogate_in_the_fleet_is_refused_with_its_place() -> None:
    text = (
        "hosts:\n"
        "  - name: bad.lab.local\n"
        "    event_logs:\n"
        "      records:\n"
        '        - {source: MSExchangeIS, event_id: 1, ago: 1h, message: "x \\udc80 y"}\n'
    )
    with pytest.raises(FleetError) as error:
        parse_fleet(text, "bad.yml")
    message = str(error.value)
    assert message.startswith("bad.yml:5: hosts.0.event_logs.records.0.message: ")
    assert "U+DC80" in message
