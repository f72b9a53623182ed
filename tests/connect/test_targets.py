"""Targets of a run: settings with the run's timeouts, the password chosen once, secrets kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from remediate.connect import passwords, targets
from remediate.connect.secrets import Secret, redact
from remediate.connect.targets import ConnectOptions, build_targets, settings_for
from remediate.inventory import Inventory, parse_inventory
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
