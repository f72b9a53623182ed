"""Targets of a run: settings with the run's timeouts, the password chosen once, secrets kept;
one host's settings never stop the run; connections we do not use are skipped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from remediate.connect import passwords, targets
from remediate.connect.secrets import Secret, redact
from remediate.connect.targets import (
    ConnectOptions,
    build_targets,
    settings_for,
    split_skipped,
    targets_for,
)
from remediate.errors import ConfigurationError, InputError
from remediate.inventory import Inventory, load_sources, parse_inventory
from remediate.inventory.vault import VaultPassword, encrypt
from remediate.transport.ssh import SshSettings
from remediate.transport.winrm import WinRMSettings

INVENTORY = """\
[mailbox]
exch01 ansible_host=10.0.0.1
exch02 ansible_password=from-inventory ansible_user=CORP\\\\svc
old2000 ansible_host=10.0.0.9 ansible_port=5985 remediate_shell=wsh
[linux]
jump ansible_connection=ssh ansible_host=10.0.0.4 ansible_user=audit
[slow]
exch01
[slow:vars]
ansible_winrm_operation_timeout_sec=60
ansible_winrm_read_timeout_sec=70
"""

NO_ENVIRONMENT: dict[str, str] = {}


@pytest.fixture
def inventory() -> Inventory:
    return parse_inventory(INVENTORY, "hosts.ini")


@pytest.fixture(autouse=True)
def fresh_prompt() -> Iterator[None]:
    passwords.forget_prompted_password()
    yield
    passwords.forget_prompted_password()


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, WinRMSettings | SshSettings]]:
    """What each target's `connect` would open, instead of opening it."""
    calls: list[tuple[str, WinRMSettings | SshSettings]] = []

    def record(host: str, settings: WinRMSettings | SshSettings) -> object:
        calls.append((host, settings))
        return object()

    monkeypatch.setattr(targets, "open_transport", record)
    return calls


def winrm(settings: WinRMSettings | SshSettings) -> WinRMSettings:
    assert isinstance(settings, WinRMSettings)
    return settings


def ssh(settings: WinRMSettings | SshSettings) -> SshSettings:
    assert isinstance(settings, SshSettings)
    return settings


# --- timeouts -------------------------------------------------------------------------------


def test_a_long_host_timeout_keeps_the_inventory_timeouts(inventory: Inventory) -> None:
    settings, _ = settings_for(inventory.host("exch01"), ConnectOptions(timeout=300), {})
    assert (winrm(settings).read_timeout, winrm(settings).operation_timeout) == (70, 60)
    assert settings.command_timeout == 300


def test_the_host_timeout_caps_winrm_read_and_operation_timeouts(inventory: Inventory) -> None:
    settings, _ = settings_for(inventory.host("exch01"), ConnectOptions(timeout=30), {})
    assert (winrm(settings).read_timeout, winrm(settings).operation_timeout) == (30, 29)
    assert settings.command_timeout == 30
    tiny, _ = settings_for(inventory.host("exch01"), ConnectOptions(timeout=1), {})
    assert (winrm(tiny).read_timeout, winrm(tiny).operation_timeout) == (2, 1)


def test_the_host_timeout_caps_the_ssh_connect_timeout(inventory: Inventory) -> None:
    short, _ = settings_for(inventory.host("jump"), ConnectOptions(timeout=5), {})
    assert (ssh(short).connect_timeout, short.command_timeout) == (5, 5)
    long, _ = settings_for(inventory.host("jump"), ConnectOptions(timeout=300), {})
    assert ssh(long).connect_timeout == SshSettings(address="x").connect_timeout


# --- the password: chosen once, by the documented order -------------------------------------


def test_a_password_from_the_environment_when_the_inventory_has_none(
    inventory: Inventory,
) -> None:
    environ = {"REMEDIATE_PASSWORD_MAILBOX": "from-env"}
    settings, secrets = settings_for(inventory.host("exch01"), ConnectOptions(), environ)
    assert winrm(settings).password == "from-env"
    assert [secret.reveal() for secret in secrets] == ["from-env"]


def test_the_inventory_password_wins(inventory: Inventory) -> None:
    environ = {"REMEDIATE_PASSWORD_EXCH02": "host-env", "REMEDIATE_PASSWORD": "env"}
    settings, secrets = settings_for(inventory.host("exch02"), ConnectOptions(), environ)
    assert winrm(settings).password == "from-inventory"
    assert secrets == [Secret("from-inventory")] and secrets[0].user == "CORP\\svc"


def test_the_prompt_is_asked_only_with_ask_pass(
    inventory: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(passwords.getpass, "getpass", lambda prompt="": "typed")
    without, none = settings_for(inventory.host("exch01"), ConnectOptions(), {})
    assert (winrm(without).password, none) == ("", [])
    asked, secrets = settings_for(inventory.host("exch01"), ConnectOptions(ask_pass=True), {})
    assert winrm(asked).password == "typed" and secrets == [Secret("typed")]


# --- build_targets --------------------------------------------------------------------------


def test_targets_carry_name_address_transport_and_shell(
    inventory: Inventory, opened: list[tuple[str, WinRMSettings | SshSettings]]
) -> None:
    built, _ = build_targets(inventory.hosts, ConnectOptions(), NO_ENVIRONMENT)
    assert [(t.name, t.address, t.transport, t.shell) for t in built] == [
        ("exch01", "10.0.0.1", "winrm", None),
        ("exch02", "exch02", "winrm", None),
        ("old2000", "10.0.0.9", "winrm", "wsh"),
        ("jump", "10.0.0.4", "ssh", None),
    ]
    assert opened == []  # building targets opens nothing
    built[2].connect()
    host, settings = opened[0]
    assert host == "old2000" and winrm(settings).endpoint == "http://10.0.0.9:5985/wsman"


def test_every_secret_in_use_is_collected_for_redaction(
    inventory: Inventory, opened: list[tuple[str, WinRMSettings | SshSettings]]
) -> None:
    environ = {"REMEDIATE_PASSWORD_JUMP": "jump-pw"}
    built, secrets = build_targets(inventory.hosts, ConnectOptions(), environ)
    assert sorted(secret.reveal() for secret in secrets) == ["from-inventory", "jump-pw"]
    text = "exch02 said from-inventory, jump said jump-pw"
    assert redact(text, secrets) == "exch02 said ***, jump said ***"
    for target in built:
        target.connect()
    assert [ssh(s).password for h, s in opened if h == "jump"] == ["jump-pw"]


def test_probe_targets_try_once(
    inventory: Inventory, opened: list[tuple[str, WinRMSettings | SshSettings]]
) -> None:
    hosts = [inventory.host("exch01"), inventory.host("jump")]
    for target in build_targets(hosts, ConnectOptions(), NO_ENVIRONMENT)[0]:
        target.connect()
    for target in build_targets(hosts, ConnectOptions(), NO_ENVIRONMENT, probe=True)[0]:
        target.connect()
    retries = [(host, settings.connect_retries) for host, settings in opened]
    assert retries == [("exch01", 2), ("jump", 2), ("exch01", 0), ("jump", 0)]


def test_options_reach_the_settings(tmp_path: Path, inventory: Inventory) -> None:
    known = str(tmp_path / "known_hosts")
    options = ConnectOptions(accept_new_host_keys=True, known_hosts=(known,))
    jump, _ = settings_for(inventory.host("jump"), options, {})
    assert (ssh(jump).accept_new_host_keys, ssh(jump).known_hosts) == (True, (known,))
    basic = parse_inventory("h ansible_port=5985 ansible_winrm_transport=basic\n", "b.ini")
    allowed, _ = settings_for(basic.host("h"), ConnectOptions(allow_insecure=True), {})
    assert (winrm(allowed).scheme, winrm(allowed).auth) == ("http", "basic")


# --- one host's settings never stop the run ---------------------------------------------------

BAD_HOSTS = """\
[good]
exch01 ansible_host=10.0.0.1 ansible_user=CORP\\\\svc
[bad]
typo ansible_winrm_transport=ntlmv2
noport ansible_port=notaport
conn ansible_connection=winrn
"""


def test_a_host_whose_settings_cannot_work_is_its_own_configuration_error(
    opened: list[tuple[str, WinRMSettings | SshSettings]],
) -> None:
    hosts = parse_inventory(BAD_HOSTS, "hosts.ini").hosts
    found = targets_for(hosts, ConnectOptions(), NO_ENVIRONMENT)
    assert [t.name for t in found.targets] == ["exch01", "typo", "noport", "conn"]
    assert found.skipped == []
    good, *bad = found.targets
    assert good.problem is None
    good.connect()
    assert [host for host, _ in opened] == ["exch01"]
    for target in bad:
        assert isinstance(target.problem, ConfigurationError)
        with pytest.raises(ConfigurationError) as raised:
            target.connect()
        assert raised.value is target.problem and raised.value.reason == "configuration"
        assert raised.value.host == target.name
    messages = [t.problem.message for t in bad if t.problem]
    assert messages[0].startswith("hosts.ini:4: ansible_winrm_transport='ntlmv2'")
    assert messages[1].startswith("hosts.ini:5: ansible_port='notaport' is not a port")
    assert messages[2].startswith("hosts.ini:6: ansible_connection='winrn' is not a connection")
    assert [host for host, _ in opened] == ["exch01"]  # a failing target opens nothing


def test_build_targets_keeps_every_host_for_apply() -> None:
    text = BAD_HOSTS + "[ctl]\nlocalhost ansible_connection=local\n"
    hosts = parse_inventory(text, "hosts.ini").hosts
    built, _ = build_targets(hosts, ConnectOptions(), NO_ENVIRONMENT)
    assert [t.name for t in built] == [h.name for h in hosts]
    local = built[-1]
    with pytest.raises(ConfigurationError, match="not contacted: ansible_connection='local'"):
        local.connect()


@pytest.mark.parametrize(
    ("transport", "modules", "words"),
    [
        ("kerberos", ("kerberos", "winkerberos"), ("remediate[kerberos]", "pykerberos")),
        ("credssp", ("requests_credssp",), ("remediate[credssp]", "requests-credssp")),
    ],
)
def test_a_missing_library_names_the_pypi_package_and_our_extra(
    transport: str,
    modules: tuple[str, ...],
    words: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    # CI installs the extras: the libraries are hidden from the look-up as if never installed
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name in modules else real(name, *a)
    )
    inventory = parse_inventory(f"h ansible_winrm_transport={transport}\n", "hosts.ini")
    (target,) = targets_for(inventory.hosts, ConnectOptions(), NO_ENVIRONMENT).targets
    assert target.problem is not None and target.problem.hint is not None
    assert "needs a library that is not installed" in target.problem.message
    for word in words:
        assert word in target.problem.hint


def test_a_surprise_in_one_host_is_its_error_without_the_exception_text(
    monkeypatch: pytest.MonkeyPatch, inventory: Inventory
) -> None:
    real = targets.connection_settings

    def flaky(host, **kwargs):  # type: ignore[no-untyped-def]
        if host.name == "exch02":
            raise ValueError("secret-ish detail")
        return real(host, **kwargs)

    monkeypatch.setattr(targets, "connection_settings", flaky)
    found = targets_for(inventory.hosts, ConnectOptions(), NO_ENVIRONMENT)
    problems = {t.name: t.problem for t in found.targets if t.problem}
    assert list(problems) == ["exch02"]
    assert "unexpected ValueError" in problems["exch02"].message
    assert "secret-ish" not in str(problems["exch02"])


def test_no_password_typed_stops_the_run_rather_than_failing_each_host(
    inventory: Inventory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def eof(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr(passwords.getpass, "getpass", eof)
    with pytest.raises(InputError, match="no password was typed"):
        targets_for(inventory.hosts, ConnectOptions(ask_pass=True), NO_ENVIRONMENT)


# --- connections remediate does not use are skipped -----------------------------------------


@pytest.mark.parametrize(
    ("value", "skipped"),
    [
        ("local", True),
        ("docker", True),
        ("community.docker.docker", True),
        ("ansible.netcommon.network_cli", True),
        ("ansible.builtin.local", True),
        ("network_cli", True),
        ("winrm", False),
        ("ansible.builtin.winrm", False),
        ("psrp", False),
        ("ssh", False),
        ("paramiko", False),
        ("ansible.builtin.paramiko_ssh", False),
        ("winrn", False),  # a typing mistake: the host's configuration error, not a skip
    ],
)
def test_connections_remediate_does_not_use_are_skipped(value: str, skipped: bool) -> None:
    inventory = parse_inventory(f"h ansible_connection={value}\n", "hosts.ini")
    found = targets_for(inventory.hosts, ConnectOptions(), NO_ENVIRONMENT)
    if skipped:
        assert found.targets == []
        (skip,) = found.skipped
        assert (skip.name, skip.connection) == ("h", value)
        assert skip.reason.startswith(f"ansible_connection={value!r}: remediate connects over")
    else:
        assert found.skipped == [] and [t.name for t in found.targets] == ["h"]
        assert (found.targets[0].problem is not None) == (value == "winrn")


def test_remediate_connection_wins_over_ansible_connection() -> None:
    text = "a ansible_connection=local remediate_connection=winrm\nb remediate_connection=local\n"
    inventory = parse_inventory(text, "hosts.ini")
    contact, skipped = split_skipped(inventory.hosts, ConnectOptions(), NO_ENVIRONMENT)
    assert [h.name for h in contact] == ["a"]
    assert [(s.name, s.reason.split(":")[0]) for s in skipped] == [
        ("b", "remediate_connection='local'")
    ]


# --- templated and vaulted connection variables ---------------------------------------------

VAULT_PASSWORD = "vault-test-password"


def _vaulted(text: str, indent: str = "  ") -> str:
    envelope = encrypt(text, VAULT_PASSWORD)
    return "!vault |\n" + "".join(f"{indent}{line}\n" for line in envelope.splitlines())


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """hosts.ini with group_vars: a user, a password templated from a vaulted variable."""
    (tmp_path / "hosts.ini").write_text(
        "[windows]\nex01 ansible_host=10.0.0.1\nex02 ansible_host=10.0.0.2\n"
        '[ctl]\nmgmt ansible_connection="{{ controller_connection }}"\n'
    )
    group_vars = tmp_path / "group_vars"
    (group_vars / "windows").mkdir(parents=True)
    (group_vars / "all.yml").write_text("controller_connection: local\n")
    (group_vars / "windows" / "vars.yml").write_text(
        'ansible_user: "CORP\\\\svc_audit"\nansible_password: "{{ vault_windows_password }}"\n'
    )
    (group_vars / "windows" / "vault.yml").write_text(
        "vault_windows_password: " + _vaulted("S3cret!")
    )
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "ex02.yml").write_text(
        'ansible_password: "{{ vault_ex02_password }}"\n'
    )
    return tmp_path


def test_a_vaulted_templated_password_reaches_the_settings(tree: Path) -> None:
    options = ConnectOptions(vault_passwords=(VaultPassword(VAULT_PASSWORD),))
    inventory = load_sources(tree / "hosts.ini", vault_passwords=options.vault_passwords)
    settings, secrets = settings_for(inventory.host("ex01"), options, NO_ENVIRONMENT)
    assert (winrm(settings).username, winrm(settings).password) == ("CORP\\svc_audit", "S3cret!")
    assert [secret.reveal() for secret in secrets] == ["S3cret!"]


def test_template_and_vault_problems_are_the_hosts_configuration_errors(tree: Path) -> None:
    wrong = ConnectOptions(vault_passwords=(VaultPassword("not-the-password"),))
    inventory = load_sources(tree / "hosts.ini", vault_passwords=wrong.vault_passwords)
    found = targets_for(inventory.hosts, wrong, NO_ENVIRONMENT)
    # the templated ansible_connection=local is read as rendered: skipped
    assert [(s.name, s.connection) for s in found.skipped] == [("mgmt", "local")]
    problems = {t.name: t.problem for t in found.targets}
    assert set(problems) == {"ex01", "ex02"}
    ex01, ex02 = problems["ex01"], problems["ex02"]
    assert ex01 is not None and ex02 is not None
    assert "vault" in str(ex01).lower() and "vault.yml" in str(ex01)
    assert "vault_ex02_password" in str(ex02) and "ex02.yml" in str(ex02)
    for problem in (ex01, ex02):
        assert problem.reason == "configuration" and "S3cret" not in str(problem)
