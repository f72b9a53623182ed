"""`-v`, `-vv`, `-vvv`: connection detail on stderr for the commands that connect, with the
secrets redacted (issue 14).

The commands run as users run them (a subprocess against the lab); the transports' records
are also checked in-process, where no handler has redacted them yet: their messages must not
hold the password in the first place.
"""

from __future__ import annotations

import base64
import io
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from remediate.cli import app, console
from remediate.connect.targets import ConnectOptions
from remediate.errors import ConnectError
from remediate.lab.fleet import load_fleet, parse_fleet
from remediate.lab.inventory_writer import write_inventory
from remediate.lab.server import Lab
from remediate.transport.connection_log import SECRETS_FIELD, TRACE, Hidden, HostLog
from remediate.transport.ssh import SshSettings, SshTransport
from tests.conftest import PLAYBOOKS, ROOT, lab_winrm

SECRET = "Verb0se-#S3cret'$(x)"
USER = "LAB\\Administrator"
BASIC = base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
# What an authentication header or token would look like, whatever its scheme.
AUTH_TOKEN = re.compile(r"(NTLM|Negotiate|Basic|Kerberos|CredSSP) [A-Za-z0-9+/]{16,}")

FLEET = f"""
address_base: 127.30.0.1
defaults:
  credentials: {{password: "{SECRET}"}}
  exchange: {{version: "6.5", build: 6.5.7638.1}}
hosts:
  - name: win.lab.local
  - name: old.lab.local
    os: {{version: 5.0.2195, caption: Windows 2000 Server, powershell: null, winrm: false}}
  - name: locked.lab.local
    faults: {{wrong_password: true}}
  - name: down.lab.local
    faults: {{down: true}}
"""
WIN, SSH, LOCKED, DOWN = "win.lab.local", "old.lab.local", "locked.lab.local", "down.lab.local"


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with Lab(parse_fleet(FLEET, "verbose.yml"), port_mode="ephemeral") as running:
        yield running


@pytest.fixture(scope="module")
def inventory(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_inventory(lab, tmp_path_factory.mktemp("verbose") / "hosts.ini")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "remediate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def assert_no_secret(text: str) -> None:
    assert SECRET not in text and "S3cret" not in text
    assert BASIC not in text and BASIC.rstrip("=") not in text
    assert "authorization" not in text.lower()
    assert not AUTH_TOKEN.search(text), AUTH_TOKEN.search(text)


def audited(result: subprocess.CompletedProcess[str]) -> None:
    """The audit ran through: exit 0 or 1 (the lab's hosts lack fixes), no traceback."""
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def audit(inventory: Path, out: Path, *extra: str, limit: str = f"{WIN}:{SSH}") -> list[str]:
    return [
        "audit", str(inventory), "--limit", limit, "-o", str(out),
        "--playbooks", str(PLAYBOOKS), "--timeout", "20", *extra,
    ]  # fmt: skip


# --- the command line ------------------------------------------------------------------------


def test_without_v_nothing_of_the_connection_is_shown(inventory: Path, tmp_path: Path) -> None:
    result = cli(*audit(inventory, tmp_path))
    audited(result)
    assert "winrm " not in result.stderr and "closed after" not in result.stderr


def test_v_before_the_command_shows_endpoints_auth_and_timings(
    lab: Lab, inventory: Path, tmp_path: Path
) -> None:
    result = cli("-v", *audit(inventory, tmp_path))
    audited(result)
    err = result.stderr
    endpoint = lab.endpoint(WIN)
    assert f"winrm {WIN}: winrm http://{endpoint.address}:{endpoint.http_port}/wsman" in err
    assert f"auth ntlm, user {USER}" in err
    assert re.search(rf"{WIN}: shell \S+ opened in \d+\.\d{{3}} s", err)
    assert re.search(rf"{WIN}: powershell\.exe: exit 0 in \d+\.\d{{3}} s \(stdin \d+ B", err)
    assert re.search(rf"{WIN}: closed after \d+\.\d{{3}} s: 5 request\(s\)", err)
    ssh = lab.endpoint(SSH)
    assert f"ssh {SSH}: ssh://{ssh.address}:{ssh.ssh_port}, user {USER}, auth password" in err
    assert re.search(rf"{SSH}: connected and authenticated in \d+\.\d{{3}} s", err)
    assert re.search(rf"{SSH}: closed after \d+\.\d{{3}} s: 2 request\(s\)", err)
    # -v is not -vv: no request lines
    assert "Receive: sent" not in err and "exec cmd.exe" not in err
    assert_no_secret(err + result.stdout)


def test_vv_after_the_command_shows_each_request_with_size_and_duration(
    inventory: Path, tmp_path: Path
) -> None:
    result = cli(*audit(inventory, tmp_path, "-vv"))
    audited(result)
    err = result.stderr
    for action in ("Create", "Command", "Send", "Receive", "Delete"):
        assert re.search(rf"{WIN}: {action}: sent \d+ B, received \d+ B in \d+\.\d{{3}} s", err), (
            action
        )
    # the host has no PowerShell: the SSH transport runs it, then the JScript dialect
    assert re.search(rf"{SSH}: exec powershell\.exe: sent \d+ B, received \d+ B in", err)
    assert re.search(rf"{SSH}: exec cmd\.exe: sent \d+ B, received \d+ B in", err)
    assert "HTTP POST" not in err  # -vvv only
    assert_no_secret(err + result.stdout)


def test_counts_before_and_after_the_command_add_up(inventory: Path, tmp_path: Path) -> None:
    result = cli("-v", *audit(inventory, tmp_path, "-vv", limit=WIN))
    audited(result)
    assert "HTTP POST 200: request headers" in result.stderr  # 1 + 2 = -vvv


def test_vvv_over_https_shows_header_sizes_and_authentication_without_a_token(
    lab: Lab, tmp_path: Path
) -> None:
    inventory = write_inventory(lab, tmp_path / "https.ini", scheme="https")
    result = cli("-vvv", *audit(inventory, tmp_path / "out", limit=f"{WIN}:{SSH}"))
    audited(result)
    err = result.stderr
    assert "auth ntlm" in err and "TLS certificate checked against" in err
    assert re.search(
        rf"{WIN}: HTTP POST 200: request headers \d+ B, body \d+ B; response headers \d+ B, "
        r"body \d+ B; after \d authentication exchange\(s\)",
        err,
    )
    assert re.search(rf"{SSH}: server SSH-2\.0-\S+, cipher \S+, host key \S+ SHA256:", err)
    assert re.search(rf"{SSH}: channel \d+ opened in", err)
    assert_no_secret(err + result.stdout)


def test_rejected_credentials_and_a_host_down_at_vvv(inventory: Path, tmp_path: Path) -> None:
    result = cli("-vvv", *audit(inventory, tmp_path, limit=f"{LOCKED}:{DOWN}"))
    assert result.returncode == 3, result.stdout + result.stderr
    err = result.stderr
    assert re.search(
        rf"{LOCKED}: connecting failed after \d+\.\d{{3}} s: the host refused the NTLM logon", err
    )
    assert re.search(rf"{DOWN}: connecting failed \(cannot connect .*\); retry 1 of 2 in \d", err)
    assert re.search(rf"{DOWN}: connecting failed after .*: cannot connect to http://", err)
    assert_no_secret(err + result.stdout)


def test_rejected_credentials_over_https_show_the_exchanges_not_the_tokens(
    lab: Lab, tmp_path: Path
) -> None:
    inventory = write_inventory(lab, tmp_path / "https.ini", scheme="https")
    result = cli("audit", str(inventory), "-vvv", "--limit", LOCKED, "-o", str(tmp_path / "o"))
    assert result.returncode == 3, result.stdout + result.stderr
    assert re.search(
        rf"{LOCKED}: HTTP POST 401: .* after \d authentication exchange\(s\)", result.stderr
    )
    assert f"{LOCKED}: Create: sent 1685 B, received 0 B" in result.stderr
    assert "HTTP 401, credentials rejected" in result.stderr
    assert_no_secret(result.stderr + result.stdout)


def test_collect_shows_the_same_detail(inventory: Path) -> None:
    result = cli("collect", str(inventory), "--json", "--limit", WIN, "-vv")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{WIN}: Receive: sent" in result.stderr
    assert f"{WIN}: closed after" in result.stderr
    assert_no_secret(result.stderr + result.stdout)


def test_apply_shows_the_detail_of_every_step(tmp_path: Path) -> None:
    from remediate.remediation.plan import save_plan
    from remediate.remediation.planning import make_plan
    from remediate.rules.playbook import load_playbooks
    from tests.remediation.conftest import approvers_args, sign_and_approve

    name = "ex2003-kb840469-before.lab.local"
    fleet = load_fleet(ROOT / "inventory" / "lab" / "demo.yml")
    fleet.hosts = [h for h in fleet.hosts if h.name == name]
    fleet.hosts[0].address = "127.30.1.1"
    fleet.hosts[0].faults.reboot_seconds = 1.0
    fleet.hosts[0].credentials.password = SECRET
    playbook = {p.id: p for p in load_playbooks([PLAYBOOKS])}["KB840469"]
    with Lab(fleet, port_mode="ephemeral") as lab:
        inventory = write_inventory(lab, tmp_path / "hosts.ini")
        connect = ConnectOptions(known_hosts=(str(tmp_path / "known_hosts"),), timeout=30)
        plan = make_plan(inventory, playbook, name, "alice", connect, datetime.now(UTC))
        path = sign_and_approve(save_plan(plan, tmp_path / "plan.json"))
        result = cli("apply", str(path), "--yes", "-vv", *approvers_args())
    # exit 1: the plan ends on a manual step that waits for the operator
    assert result.returncode == 1 and "step 1 ok" in result.stdout, result.stdout + result.stderr
    err = result.stderr
    assert f"winrm {name}: winrm http://127.30.1.1:" in err
    assert len(re.findall(rf"{name}: Command: sent \d+ B", err)) >= 2  # one per step at least
    assert f"{name}: closed after" in err
    assert_no_secret(err + result.stdout)


# --- the transports' records, before any handler -------------------------------------------


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=TRACE)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(record.getMessage() for record in self.records)


@pytest.fixture
def records() -> Iterator[Records]:
    logger = logging.getLogger("remediate.transport")
    handler = Records()
    logger.addHandler(handler)
    logger.setLevel(TRACE)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


def test_winrm_records_hold_no_secret_and_carry_it_hidden(lab: Lab, records: Records) -> None:
    link = lab_winrm(lab, WIN, password=SECRET)
    try:
        assert link.run_command("hostname").exit_code == 0
    finally:
        link.close()
    text = records.text()
    assert "hostname: exit 0 in" in text and "Command: sent" in text and "HTTP POST 200" in text
    assert SECRET not in text and BASIC not in text
    for record in records.records:
        assert record.name == "remediate.transport.winrm"
        hidden = getattr(record, SECRETS_FIELD)
        assert isinstance(hidden, Hidden) and hidden.values == (SECRET,)
        assert repr(hidden) == str(hidden) == "***"


def test_ssh_records_name_the_program_not_its_arguments(lab: Lab, records: Records) -> None:
    endpoint = lab.endpoint(SSH)
    settings = SshSettings(
        address=endpoint.address,
        port=endpoint.ssh_port or 0,
        username=USER,
        password=SECRET,
        accept_new_host_keys=True,
        known_hosts=(),
    )
    link = SshTransport(settings, host=SSH)
    try:
        link.exec(f"cmd.exe /c echo {SECRET}", None)
    finally:
        link.close()
    text = records.text()
    assert f"{SSH}: exec cmd.exe: sent" in text and f"{SSH}: closed after" in text
    assert SECRET not in text and "echo" not in text


def test_connection_retries_are_traced(lab: Lab, records: Records) -> None:
    link = lab_winrm(lab, DOWN, connect_retries=1, retry_backoff=0.01, read_timeout=3)
    with pytest.raises(ConnectError):
        link.run_command("hostname")
    link.close()
    assert re.search(rf"{DOWN}: connecting failed \(.+\); retry 1 of 1 in 0\.0 s", records.text())
    assert [r.levelname for r in records.records if "retry" in r.getMessage()] == ["TRACE"]


def test_a_retry_after_a_failed_session_sets_up_message_encryption_again(
    lab: Lab, records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection breaks in the middle of the NTLM logon: the retry logs on again on a
    new connection, or its messages would go out unencrypted (or sealed with no keys)."""
    from remediate.transport.http_link import HttpLink

    real_post = HttpLink.post
    failures = [ConnectionResetError(104, "Connection reset by peer")]

    def post(self: HttpLink, head: bytes, body: bytes) -> object:
        if failures and b"Authorization: Negotiate" in head:
            raise failures.pop()
        return real_post(self, head, body)

    monkeypatch.setattr(HttpLink, "post", post)
    link = lab_winrm(lab, WIN, password=SECRET, retry_backoff=0.01)
    try:
        assert link.run_command("hostname").exit_code == 0
        assert link._protocol.transport.encryption
    finally:
        link.close()
    text = records.text()
    assert not failures
    assert "retry 1 of 2" in text and "authenticated, messages encrypted" in text


# --- the command line's handler --------------------------------------------------------------


def handled(message: str, *args: object, secrets: tuple[str, ...] = ()) -> str:
    """One record through the handler that `-vvv` installs, as stderr would show it."""
    stream = io.StringIO()
    real = sys.stderr
    sys.stderr = stream
    try:
        console.set_verbosity(3)
        log = HostLog(logging.getLogger("remediate.transport.winrm"), "h1", secrets, (USER,))
        log.log(TRACE, message, *args)
    finally:
        console.set_verbosity(0)
        sys.stderr = real
    return stream.getvalue()


def test_the_handler_redacts_every_form_of_the_password() -> None:
    quoted = "Verb0se-%23S3cret%27%24%28x%29"
    shown = handled("said %s, %s, %s and %s", SECRET, quoted, BASIC, "ok", secrets=(SECRET,))
    assert shown.endswith("winrm h1: said ***, ***, *** and ok\n"), shown
    assert re.match(r"\d\d:\d\d:\d\d\.\d{3} winrm h1: ", shown)


@pytest.mark.parametrize(
    "message",
    [
        "Authorization: Negotiate TlRMTVNTUAADAAAAGAAYAHgAAAAYABgAkAAAAAAAAABYAAAA",
        "headers {'authorization': 'Basic dXNlcjpwYXNzd29yZA=='}",
        "WWW-Authenticate: NTLM TlRMTVNTUAACAAAADAAMADgAAAAFgomi",
        "the token was NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAA then",
        "Proxy-Authorization=Basic Zm9vOmJhcg==",
        "sent Basic Zm9vOmJhcg== to the host",
        "sent Kerberos YIIHwwYJKoZIhvcSAQICAQBuggey to the host",
    ],
)
def test_the_handler_hides_authorization_headers_and_tokens(message: str) -> None:
    shown = handled("%s", message)
    assert "TlRMTVNT" not in shown and "dXNlcjpw" not in shown and "Zm9vOmJh" not in shown
    assert "***" in shown


def test_the_handler_keeps_plain_words_and_strips_terminal_sequences() -> None:
    shown = handled("Basic authentication, NTLM Authentication over HTTP\x1b[31m [red] \x07end")
    assert "Basic authentication, NTLM Authentication over HTTP [red] end" in shown


def test_the_option_works_before_after_and_in_groups(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.ini"
    hosts.write_text("h1\n")
    runner = CliRunner()
    logger = logging.getLogger(console.VERBOSE_LOGGER)
    try:
        for args, level in [
            (["inventory", str(hosts)], logging.NOTSET),
            (["-v", "inventory", str(hosts)], logging.INFO),
            (["inventory", "-vv", str(hosts)], logging.DEBUG),
            (["-v", "inventory", str(hosts), "-v", "--verbose"], TRACE),
            (["-vvvvv", "inventory", str(hosts)], TRACE),
            (["playbook", "-v", "lint", "-v", str(PLAYBOOKS)], logging.DEBUG),
        ]:
            result = runner.invoke(app, args)
            assert result.exit_code == 0, (args, result.output)
            assert logger.level == level, args
    finally:
        console.set_verbosity(0)
    assert not [h for h in logger.handlers if type(h).__name__ == "_StderrHandler"]
