"""The `step` script: PowerShell 2.0 / ES3 clean, strict parsing, and KB840469 run for real."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from remediate.errors import TransportError
from remediate.lab.answers.commands import run as run_command
from remediate.lab.answers.step import history
from remediate.lab.fleet import parse_fleet
from remediate.lab.server import Lab
from remediate.probes.framing import OutputFormatError, format_output
from remediate.probes.protocol import parse_declaration
from remediate.probes.quoting import quote_argument
from remediate.probes.shipped import shipped_script
from remediate.probes.step import StepOutcome, build_step_script, parse_step_result
from remediate.remediation.steps import unattend
from remediate.transport import WSH_BOOTSTRAP
from remediate.transport.ssh import SshSettings, SshTransport
from remediate.transport.winrm import WinRMTransport
from tests.conftest import PASSWORD, lab_winrm
from tests.probes.test_collect_js import HARNESS, es3_problems, fake_host
from tests.probes.test_powershell_scripts import ps3_constructs, syntax_errors

PROBES = Path(__file__).resolve().parents[2] / "remediate" / "probes"
EX2000 = "ex2000.lab.local"
W2K = "w2k.lab.local"
W2K8R2 = "w2k8r2.lab.local"
HOSTILE = 'MTA\'s "$(Remove-Item C:\\)" `x`; exit 3\r\n& del /q *'

FLEET = """
address_base: 127.29.0.1
hosts:
  - name: ex2000.lab.local
    os: {caption: "Microsoft(R) Windows(R) Server 2003, Standard Edition",
         version: 5.2.3790, build: 3790, service_pack: 2, powershell: "2.0", winrm: true}
    exchange: {product: Microsoft Exchange 2000 Server, version: "6.0", build: 6.0.6249.0,
               service_pack: 3, install_root: 'C:\\Program Files\\Exchsrvr'}
    components: {iis_common: true, iis_www: true, iis_smtp: true}
    services:
      - {name: SMTPSVC}
      - {name: MSExchangeMTA, state: stopped, fails_to_start: true}
    faults: {reboot_seconds: 3.0}
  - name: w2k.lab.local
    os: {caption: Microsoft Windows 2000 Server, version: 5.0.2195, build: 2195,
         service_pack: 4, powershell: null, winrm: false}
    components: {iis_smtp: true}
    services: [{name: Spooler, state: stopped}]
    faults: {reboot_seconds: 1.0}
  - name: w2k8r2.lab.local
    os: {caption: Microsoft Windows Server 2008 R2 Enterprise, version: 6.1.7601, build: 7601,
         service_pack: 1, powershell: "2.0", winrm: true}
    components: {SMTP-Server: true}
"""


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(parse_fleet(FLEET, "steps.yml"), port_mode="ephemeral") as running:
        yield running


def winrm(lab: Lab, name: str, retries: int = 2) -> WinRMTransport:
    return lab_winrm(lab, name, connect_retries=retries)


@pytest.fixture(scope="module")
def ssh(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Callable[[], SshTransport]:
    known_hosts = tmp_path_factory.mktemp("steps") / "known_hosts"
    known_hosts.write_text(lab.ssh_host_key_line(W2K) + "\n")
    endpoint = lab.endpoint(W2K)

    def connect() -> SshTransport:
        settings = SshSettings(
            address=endpoint.address,
            port=endpoint.ssh_port,  # type: ignore[arg-type]
            username="Administrator",
            password=PASSWORD,
            known_hosts=(str(known_hosts),),
            connect_timeout=5,
        )
        return SshTransport(settings, host=W2K)

    return connect


def step(link: WinRMTransport | SshTransport, dialect: str, **arguments: object) -> StepOutcome:
    try:
        result = link.run(build_step_script(arguments, dialect), dialect)  # type: ignore[arg-type]
    finally:
        link.close()
    return parse_step_result(result.stdout)


def answers(lab: Lab, name: str) -> bool:
    link = winrm(lab, name, retries=0)  # a retry would hide the host being down
    try:
        link.run_command("hostname")
        return True
    except TransportError:
        return False
    finally:
        link.close()


def wait_for_reboot(lab: Lab, name: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while answers(lab, name):
        assert time.monotonic() < deadline, "the host never went down"
        time.sleep(0.1)
    while not answers(lab, name):
        assert time.monotonic() < deadline, "the host did not come back"
        time.sleep(0.3)


# -- the scripts themselves -------------------------------------------------------------------


def test_shipped_scripts_are_powershell_2_and_es3() -> None:
    source = shipped_script("step.ps1")  # with common.ps1 spliced in
    assert "function Write-Record" in source
    assert not re.search(r"(?m)^\s*# #include", source)
    assert syntax_errors(source.encode()) == []
    assert ps3_constructs(source) == []
    assert es3_problems(shipped_script("step.js")) == []


@pytest.mark.parametrize("dialect", ["powershell", "wsh"])
def test_the_script_as_sent_declares_itself_and_parses(dialect: str) -> None:
    sent = build_step_script({"action": "service", "op": "start", "name": HOSTILE}, dialect)  # type: ignore[arg-type]
    declared = parse_declaration(sent)
    assert declared is not None and (declared.name, declared.version) == ("step", 1)
    assert declared.arguments == {"v": 1, "action": "service", "op": "start", "name": HOSTILE}
    assert declared.dialect == ("powershell" if dialect == "powershell" else "jscript")
    assert HOSTILE not in sent and "$(Remove-Item C:" not in sent
    if dialect == "powershell":
        assert syntax_errors(sent.encode()) == []
        assert "\n\n" not in sent.rstrip("\r\n").replace("\r\n", "\n")
    else:
        assert es3_problems(sent) == []


def test_result_parsing_is_strict() -> None:
    fields = {"status": "ok", "changed": "1", "exit_code": "0", "command": "x", "message": "m"}
    outcome = parse_step_result(format_output("step", [("result", fields)]))
    assert outcome == StepOutcome("ok", True, 0, "x", "m")
    no_code = parse_step_result(format_output("step", [("result", {"status": "failed"})]))
    assert (no_code.status, no_code.changed, no_code.exit_code) == ("failed", False, None)
    bad = [
        format_output("step", []),
        format_output("step", [("result", fields), ("result", fields)]),
        format_output("step", [("result", {**fields, "status": "maybe"})]),
        format_output("step", [("result", {**fields, "exit_code": "1; rm"})]),
        format_output("collect", [("result", fields)]),
        format_output("step", [("result", fields)])[:-20],
    ]
    for output in bad:
        with pytest.raises(OutputFormatError):
            parse_step_result(output)


def test_arguments_are_quoted_as_windows_reads_them() -> None:
    assert quote_argument("/q") == "/q"
    assert quote_argument("") == '""'
    assert quote_argument("C:\\Program Files\\x.exe") == '"C:\\Program Files\\x.exe"'
    assert quote_argument('a"b') == '"a\\"b"'
    assert quote_argument("dir\\ x\\") == '"dir\\ x\\\\"'


# -- against the lab ----------------------------------------------------------------------------


def test_kb840469_sequence_starts_the_mta(lab: Lab) -> None:
    spec = lab.host(EX2000).spec
    mta = next(s for s in spec.services if s.name == "MSExchangeMTA")

    def ps(**arguments: object) -> StepOutcome:
        return step(winrm(lab, EX2000), "powershell", **arguments)

    start = {"action": "service", "op": "start", "name": "MSExchangeMTA", "timeout": 60}
    early = ps(**start)
    assert (early.status, early.exit_code, early.changed) == ("failed", 1053, False)
    assert "did not respond to the start or control request" in early.message
    assert early.command == "Win32_Service MSExchangeMTA StartService()"

    smtp = {"action": "component", "mechanism": "sysocmgr", "name": "iis_smtp"}
    removed = ps(**smtp, op="remove", unattend=unattend("iis_smtp", False))
    assert (removed.status, removed.changed, removed.exit_code) == ("ok", True, 0)
    assert removed.command.startswith("C:\\WINDOWS\\system32\\sysocmgr.exe /i:")
    assert removed.command.endswith('.inf" /q /r')
    assert spec.components["iis_smtp"] is False

    reboot = ps(action="reboot", delay=0)
    assert (reboot.status, reboot.command) == ("ok", "Win32_OperatingSystem Win32Shutdown(2)")
    wait_for_reboot(lab, EX2000)
    installed = ps(**smtp, op="install", unattend=unattend("iis_smtp", True))
    assert (installed.status, installed.changed) == ("ok", True)
    assert spec.components["iis_smtp"] is True
    assert ps(action="reboot", delay=0).status == "ok"
    wait_for_reboot(lab, EX2000)

    assert ps(**start).status == "failed"  # Exchange 2000 needs Smtpreinstall.exe too
    program = "C:\\Program Files\\Exchsrvr\\bin\\Smtpreinstall.exe"
    ran = ps(action="run", program=program, arguments=[], allowed_exit_codes=[0], timeout=600)
    assert (ran.status, ran.exit_code, ran.command) == ("ok", 0, f'"{program}"')
    started = ps(**start)
    assert (started.status, started.changed, started.exit_code) == ("ok", True, 0)
    assert (mta.state, mta.fails_to_start) == ("running", False)
    again = ps(**start)
    assert (again.status, again.changed) == ("ok", False)
    assert history(EX2000) == [
        "component iis_smtp off",
        "component iis_smtp on",
        "run Smtpreinstall.exe",
        "service MSExchangeMTA start",
    ]
    assert lab.open_shells() == 0


def test_a_mechanism_that_does_not_fit_the_os_fails(lab: Lab, ssh: Callable) -> None:
    feature = {"action": "component", "op": "remove", "name": "SMTP-Server"}
    ps = step(winrm(lab, EX2000), "powershell", **feature, mechanism="servermanager")
    assert (ps.status, ps.exit_code) == ("failed", 1)
    assert "'ServerManager' was not loaded" in ps.message
    for mechanism in ("servermanager", "ocsetup"):
        wsh = step(ssh(), "wsh", **feature, mechanism=mechanism)
        assert (wsh.status, wsh.exit_code) == ("failed", 2)
        assert wsh.message == "The system cannot find the file specified."
    assert lab.host(W2K).spec.components == {"iis_smtp": True}
    received = lab.host(W2K).received[-1]
    assert (received.name, received.transport) == ("step", "ssh")


def test_hostile_data_arrives_as_data(lab: Lab, ssh: Callable) -> None:
    service = step(ssh(), "wsh", action="service", op="stop", name=HOSTILE)
    assert (service.status, service.exit_code) == ("failed", 1060)
    assert service.command == f"Win32_Service {quote_argument(HOSTILE)} StopService()"
    assert lab.host(W2K).received[-1].arguments["name"] == HOSTILE
    # step.js runs programs under cmd.exe (see test_a_chatty_installer...): a line break or a %
    # cannot pass through it as data, so the step refuses them and runs nothing.
    ran = step(ssh(), "wsh", action="run", program="C:\\tools\\fix.exe", arguments=[HOSTILE, ""])
    assert (ran.status, ran.exit_code) == ("failed", None)
    assert "cmd.exe cannot pass to the program as data" in ran.message
    assert ran.command == f'C:\\tools\\fix.exe {quote_argument(HOSTILE)} ""'
    assert "run fix.exe" not in history(W2K)
    carried = HOSTILE.replace("\r\n", " ")
    ran = step(ssh(), "wsh", action="run", program="C:\\tools\\fix.exe", arguments=[carried, ""])
    assert ran.status == "ok"
    assert lab.host(W2K).received[-1].arguments["arguments"] == [carried, ""]
    assert "run fix.exe" in history(W2K)
    bad_name = step(
        ssh(),
        "wsh",
        action="component",
        op="install",
        mechanism="sysocmgr",
        name=HOSTILE,
        unattend="[Components]\r\niis_smtp = off\r\n",
    )
    assert (bad_name.status, bad_name.message) == ("failed", "invalid component name.")
    assert lab.host(W2K).spec.components == {"iis_smtp": True}


def test_failures_are_results(lab: Lab, ssh: Callable) -> None:
    missing = step(ssh(), "wsh", action="run", program="C:\\missing\\x.exe")
    assert (missing.status, missing.exit_code) == ("failed", 2)
    unknown = step(ssh(), "wsh", action="format_c")
    assert (unknown.status, unknown.message) == ("failed", "unknown action 'format_c'.")
    mode = step(ssh(), "wsh", action="service", op="start_mode", name="spooler", mode="disabled")
    assert (mode.status, mode.changed, mode.command) == (
        "ok",
        True,
        "Win32_Service spooler ChangeStartMode(Disabled)",
    )
    refused = step(ssh(), "wsh", action="service", op="start", name="Spooler")
    assert (refused.status, refused.exit_code) == ("failed", 1058)


# -- issue 13: reboot on Windows 2000, chatty programs under WSH, progress records ---------------


def test_windows_2000_restarts_through_wmi(lab: Lab, ssh: Callable) -> None:
    """Windows 2000 has no shutdown.exe: the restart is Win32Shutdown, and the host comes back."""
    # The lab's cmd.exe knows shutdown.exe only from Windows XP/2003 on (as the old script ran it).
    w2k = lab.host(W2K)
    refused = run_command(w2k, "cmd.exe", ["/c", "shutdown /r /t 0"], b"", "ssh")
    assert refused.exit_code == 9009
    assert b"'shutdown' is not recognized" in refused.stderr
    assert w2k.is_online()

    before = step(ssh(), "wsh", action="boot_time").message
    reboot = step(ssh(), "wsh", action="reboot", delay=0)
    assert (reboot.status, reboot.changed, reboot.exit_code) == ("ok", True, 0)
    assert reboot.command == "Win32_OperatingSystem Win32Shutdown(2)"
    deadline = time.monotonic() + 30
    after = before
    while after == before:
        assert time.monotonic() < deadline, "the host did not come back with a new boot time"
        time.sleep(0.3)
        try:
            after = step(ssh(), "wsh", action="boot_time").message
        except TransportError:
            continue
    assert after > before


def run_step_js(host: dict, arguments: dict, tmp_path: Path) -> tuple[StepOutcome, dict]:
    """step.js as sent, run by node under the fake WSH: its outcome and the harness's log."""
    description = tmp_path / "host.json"
    description.write_text(json.dumps(host), encoding="utf-8")
    done = subprocess.run(
        ["node", str(HARNESS), str(description), WSH_BOOTSTRAP],
        input=build_step_script(arguments, "wsh").encode("utf-8"),
        capture_output=True,
        timeout=60,  # a script that hangs fails here instead of hanging the suite
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    log = json.loads(done.stderr.decode("utf-8").splitlines()[-1])
    return parse_step_result(done.stdout), log


@pytest.fixture
def w2k_host(lab: Lab) -> dict:
    """What WSH sees on the lab's Windows 2000 host: no shutdown.exe, and a chatty installer."""
    host = fake_host(lab.host(W2K).spec)
    installer = "C:\\setup\\chatty.exe"
    host["files"].append({"path": installer, "version": "", "size": 1, "modified_ms": 0})
    # 40,000 characters on each stream: ten times what a pipe holds before the writer blocks.
    host["programs"] = {installer: {"stdout": 40000, "stderr": 40000, "exit_code": 3010}}
    return host


@pytest.mark.skipif(not Path("/usr/bin/node").exists(), reason="node runs the fake WSH")
def test_step_js_reboots_windows_2000_with_win32shutdown(w2k_host: dict, tmp_path: Path) -> None:
    outcome, log = run_step_js(w2k_host, {"action": "reboot", "delay": 3}, tmp_path)
    assert (outcome.status, outcome.exit_code) == ("ok", 0), outcome.message
    assert log["shutdowns"] == [2]  # Reboot, not forced, with the Shutdown privilege enabled
    assert log["clock"] == 3000  # the delay is waited before the call
    assert log["executed"] == []  # no shutdown.exe
    forced, log = run_step_js(w2k_host, {"action": "reboot", "delay": 0, "force": True}, tmp_path)
    assert forced.status == "ok" and log["shutdowns"] == [6]


@pytest.mark.skipif(not Path("/usr/bin/node").exists(), reason="node runs the fake WSH")
def test_a_chatty_installer_does_not_hang_a_wsh_step(w2k_host: dict, tmp_path: Path) -> None:
    run = {
        "action": "run",
        "program": "C:\\setup\\chatty.exe",
        "arguments": ["/q", 'a&b (c) ^d |e <f> "g h"'],
        "allowed_exit_codes": [0, 3010],
        "timeout": 600,
    }
    outcome, log = run_step_js(w2k_host, run, tmp_path)
    assert (outcome.status, outcome.exit_code) == ("ok", 3010), outcome.message
    assert log["clock"] < 600_000  # it ended, not the timeout
    # cmd.exe handed the program exactly the command line quote_argument built
    assert log["executed"] == [
        " ".join(quote_argument(a) for a in [run["program"], *run["arguments"]])
    ]
    missing, log = run_step_js(w2k_host, {**run, "program": "C:\\setup\\gone.exe"}, tmp_path)
    assert (missing.status, missing.exit_code) == ("failed", 2)
    assert log["executed"] == []
    refused, log = run_step_js(w2k_host, {**run, "arguments": ["100%"]}, tmp_path)
    assert refused.status == "failed" and "cannot pass to the program as data" in refused.message
    assert log["executed"] == []


def test_servermanager_steps_silence_progress(lab: Lab) -> None:
    """Add-WindowsFeature's progress records reach WinRS as CLIXML on stderr unless silenced."""
    feature = {"action": "component", "op": "install", "mechanism": "servermanager"}
    script = build_step_script({**feature, "name": "SMTP-Server"}, "powershell")
    assert "$ProgressPreference = 'SilentlyContinue'" in script
    link = winrm(lab, W2K8R2)
    try:
        result = link.run(script, "powershell")
        assert result.stderr == b""
        assert parse_step_result(result.stdout).status == "ok"
        unsilenced = "\r\n".join(
            line for line in script.split("\r\n") if not line.startswith("$ProgressPreference")
        )
        noisy = link.run(unsilenced, "powershell")
        assert noisy.stderr.removeprefix(b"\xef\xbb\xbf").startswith(b"#< CLIXML")
    finally:
        link.close()


# -- step.js's copy path under the fake WSH: MSXML bin.base64, ADODB.Stream, SHA256Managed ------
NODE = pytest.mark.skipif(not Path("/usr/bin/node").exists(), reason="node runs the fake WSH")
SMTP_REINSTALL = "C:\\Program Files\\Exchsrvr\\bin\\Smtpreinstall.exe"
STAGED = SMTP_REINSTALL + ".remediate-copy"
CONTENT = bytes(range(256)) * 3 + b"MZ\x00\xff tail"  # every byte value, not a multiple of 3


def copying_host(w2k_host: dict, dotnet: str | None = "2.0") -> dict:
    """The Windows 2000 host with the .NET Framework (or not), able to run the copied program."""
    host = {**w2k_host, "dotnet": dotnet}
    host["programs"] = {SMTP_REINSTALL: {"exit_code": 0}}
    return host


def put_in_chunks(host: dict, content: bytes, tmp_path: Path) -> list[StepOutcome]:
    """Send `content` to STAGED in 100-byte put_file chunks, one script run each; the host's
    files follow from run to run (the harness logs the files that hold bytes)."""
    from remediate.probes.step import put_file_requests

    outcomes = []
    for request in put_file_requests(STAGED, content, chunk=100):
        outcome, log = run_step_js(host, request, tmp_path)
        outcomes.append(outcome)
        host["files"] = [f for f in host["files"] if "content_base64" not in f] + log["files"]
    return outcomes


def checked_run(sha256: str) -> dict:
    return {
        "action": "run",
        "program": SMTP_REINSTALL,
        "arguments": [],
        "allowed_exit_codes": [0],
        "timeout": 600,
        "copy": {"from": "", "staged": STAGED, "sha256": sha256},
    }


@NODE
def test_step_js_puts_a_file_in_chunks_and_runs_it_checked(w2k_host: dict, tmp_path: Path) -> None:
    import hashlib

    host = copying_host(w2k_host)
    puts = put_in_chunks(host, CONTENT, tmp_path)
    assert len(puts) == 8 and all(p.status == "ok" for p in puts), [p.message for p in puts]
    assert puts[-1].message == f"{len(CONTENT)} bytes written"
    outcome, log = run_step_js(host, checked_run(hashlib.sha256(CONTENT).hexdigest()), tmp_path)
    assert (outcome.status, outcome.exit_code) == ("ok", 0), outcome.message
    assert log["executed"] == [quote_argument(SMTP_REINSTALL)]  # the program ran
    stored = {f["path"].lower(): base64.b64decode(f["content_base64"]) for f in log["files"]}
    assert stored == {SMTP_REINSTALL.lower(): CONTENT}  # in place, byte for byte; staged removed


@NODE
def test_step_js_a_wrong_hash_removes_the_copy_and_runs_nothing(
    w2k_host: dict, tmp_path: Path
) -> None:
    host = copying_host(w2k_host)
    put_in_chunks(host, CONTENT, tmp_path)
    outcome, log = run_step_js(host, checked_run("0" * 64), tmp_path)
    assert outcome.status == "failed"
    assert "not the planned " + "0" * 64 in outcome.message and "it was not run" in outcome.message
    assert log["executed"] == []
    assert log["files"] == []  # the staged file is deleted; nothing replaced the program


@NODE
def test_step_js_an_out_of_order_chunk_fails(w2k_host: dict, tmp_path: Path) -> None:
    from remediate.probes.step import put_file_requests

    host = copying_host(w2k_host)
    first, second, third = put_file_requests(STAGED, CONTENT[:300], chunk=100)
    outcome, log = run_step_js(host, first, tmp_path)
    assert outcome.status == "ok"
    host["files"] = host["files"] + log["files"]
    skipped, log = run_step_js(host, third, tmp_path)  # the second chunk was lost
    assert skipped.status == "failed"
    assert "holds 100 bytes, not 200: a chunk is missing" in skipped.message
    assert [base64.b64decode(f["content_base64"]) for f in log["files"]] == [CONTENT[:100]]
    assert second["offset"] == 100


@NODE
def test_step_js_without_dotnet_refuses_the_copy(w2k_host: dict, tmp_path: Path) -> None:
    import hashlib

    host = copying_host(w2k_host, dotnet=None)
    assert all(p.status == "ok" for p in put_in_chunks(host, CONTENT, tmp_path))
    outcome, log = run_step_js(host, checked_run(hashlib.sha256(CONTENT).hexdigest()), tmp_path)
    assert outcome.status == "failed"
    assert "SHA256Managed needs the .NET Framework 2.0" in outcome.message
    assert log["executed"] == [] and log["files"] == []


@NODE
def test_step_js_waits_for_a_component_as_long_as_its_arguments_say(
    tmp_path: Path, lab: Lab
) -> None:
    """DISM on Windows 2008 R2 without PowerShell (step.js): a feature install that takes
    10 minutes is stopped at the step's `timeout` (5 min), not at the old fixed 3600 s."""
    host = fake_host(lab.host(W2K8R2).spec)
    dism = "C:\\Windows\\system32\\dism.exe"
    host["env"] = {**host.get("env", {}), "windir": "C:\\Windows"}
    host["files"].append({"path": dism, "version": "", "size": 1, "modified_ms": 0})
    host["programs"] = {dism: {"exit_code": 0, "seconds": 600}}
    feature = {
        "action": "component",
        "op": "install",
        "mechanism": "servermanager",
        "name": "SMTP-Server",
        "dism": "SMTP-Server",
    }
    stopped, log = run_step_js(host, {**feature, "timeout": 300}, tmp_path)
    assert stopped.status == "failed", stopped.message
    assert "did not finish within 300 s" in stopped.message
    assert 300_000 <= log["clock"] < 301_000
    done, log = run_step_js(host, {**feature, "timeout": 900}, tmp_path)
    assert (done.status, done.exit_code) == ("ok", 0), done.message
    assert log["clock"] < 900_000
