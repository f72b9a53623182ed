"""The inventory options, read the same on every command that reads an inventory.

`audit`, `collect`, `plan` and `inventory` take the INVENTORY argument and `-i` (the
`options.InventoryArg` and `options.InventoryOption` aliases); those and `apply` take the
vault options (`VaultPasswordFiles`, `VaultIds`, `AskVaultPass`). This module turns them into
what the library takes: the inventory sources, in order, and the vault passwords.

As Ansible does (ansible-core 2.19, lib/ansible/cli/arguments/option_helpers.py and
lib/ansible/config/base.yml): with no inventory on the command line, ANSIBLE_INVENTORY, else
`[defaults] inventory` of the first ansible.cfg found (ANSIBLE_CONFIG, ./ansible.cfg,
~/.ansible.cfg); vault passwords from the options, ANSIBLE_VAULT_PASSWORD_FILE,
ANSIBLE_VAULT_IDENTITY_LIST and ansible.cfg (`remediate.inventory.vault_passwords`).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from remediate.cli.console import console, errors, safe
from remediate.errors import InputError

if TYPE_CHECKING:
    from remediate.connect.targets import SkippedHost
    from remediate.inventory import Host, Inventory
    from remediate.inventory.config import AnsibleConfig
    from remediate.inventory.vault import VaultPassword

WARNING_CHARS = 1000  # a warning quotes inventory text: bounded like any remote text


def _text(text: str, style: str = "", limit: int = 500) -> Text:
    """Inventory text printed as it is (`[red]`, `[::1]` are not markup), bounded, clean."""
    return Text(safe(text, limit), style=style)


def read_ansible_config(
    environ: Mapping[str, str], cwd: Path | None = None, home: Path | None = None
) -> AnsibleConfig | None:
    """The ansible.cfg Ansible would use here, read, or None; its warnings on stderr."""
    from remediate.inventory.config import find_config, read_config

    cwd = Path.cwd() if cwd is None else cwd
    found, warnings = find_config(environ, cwd, Path.home() if home is None else home)
    print_warnings(warnings)
    if found is None:
        return None
    config = read_config(found, environ=environ, cwd=cwd)
    print_warnings(config.warnings)
    return config


def _given(inventory: Path | None, sources: Sequence[str] | None) -> list[str]:
    """The command line's sources: the INVENTORY argument, then every -i in order."""
    given = [str(inventory)] if inventory is not None else []
    for source in sources or ():
        if not source.strip():
            raise InputError("-i/--inventory is empty", hint="give an inventory file or folder")
        given.append(source)
    return given


def resolve_sources(
    inventory: Path | None,
    sources: Sequence[str] | None,
    *,
    environ: Mapping[str, str] | None = None,
    config: AnsibleConfig | None = None,
    cwd: Path | None = None,
) -> list[str]:
    """The inventory sources to read, in order; InputError when there are none.

    Without any on the command line: ANSIBLE_INVENTORY, else ansible.cfg's (said on stderr).
    """
    given = _given(inventory, sources)
    if given:
        return given
    from remediate.inventory.config import default_sources

    environ = os.environ if environ is None else environ
    defaults, description = default_sources(environ, config, cwd=cwd)
    found = [str(source) for source in defaults]
    errors.print(
        _text(f"inventory: {', '.join(found)} (from {description})", "dim", WARNING_CHARS),
        soft_wrap=True,
    )
    return found


def resolve_vault_passwords(
    vault_password_files: Sequence[str] | None = None,
    vault_ids: Sequence[str] | None = None,
    ask_vault_pass: bool = False,
    *,
    environ: Mapping[str, str] | None = None,
    config: AnsibleConfig | None = None,
    cwd: Path | None = None,
) -> tuple[VaultPassword, ...]:
    """The vault passwords from the options, the environment and ansible.cfg, in the order
    ansible-core tries them; asked at the terminal without echo when a source is `prompt`."""
    from remediate.inventory.vault_passwords import collect_vault_passwords

    found = collect_vault_passwords(
        password_files=list(vault_password_files or ()),
        vault_ids=list(vault_ids or ()),
        ask=ask_vault_pass,
        environ=os.environ if environ is None else environ,
        config=config,
        prompt=getpass.getpass,
        cwd=cwd,
    )
    return tuple(found)


def resolve_inventory(
    inventory: Path | None,
    sources: Sequence[str] | None,
    vault_password_files: Sequence[str] | None = None,
    vault_ids: Sequence[str] | None = None,
    ask_vault_pass: bool = False,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    home: Path | None = None,
) -> tuple[list[str], tuple[VaultPassword, ...]]:
    """The inventory options of a command as (sources, vault passwords).

    ansible.cfg is read once for both (`cwd` and `home` default to the process's).
    """
    environ = os.environ if environ is None else environ
    config = read_ansible_config(environ, cwd, home)
    found = resolve_sources(inventory, sources, environ=environ, config=config, cwd=cwd)
    passwords = resolve_vault_passwords(
        vault_password_files, vault_ids, ask_vault_pass, environ=environ, config=config, cwd=cwd
    )
    return found, passwords


@dataclass(frozen=True)
class ChosenInventory:
    """What the inventory options and --limit chose: the sources, the inventory read, the
    hosts selected (in the order of `all`) and the vault passwords."""

    sources: list[str]
    inventory: Inventory
    hosts: tuple[Host, ...]
    vault_passwords: tuple[VaultPassword, ...] = field(repr=False)


def choose_inventory(
    inventory: Path | None,
    sources: Sequence[str] | None,
    limit: str | None,
    vault_password_files: Sequence[str] | None = None,
    vault_ids: Sequence[str] | None = None,
    ask_vault_pass: bool = False,
) -> ChosenInventory:
    """Resolve the options, read the inventory and select the hosts, the warnings printed:
    for a command that lists hosts (`remediate inventory`). An empty inventory is no error."""
    from remediate.inventory import load_sources
    from remediate.inventory.patterns import selection_for

    found, passwords = resolve_inventory(
        inventory, sources, vault_password_files, vault_ids, ask_vault_pass
    )
    loaded = load_sources(found, vault_passwords=passwords)
    selection = selection_for(loaded, limit)
    print_warnings(loaded.warnings + selection.warnings)
    return ChosenInventory(found, loaded, selection.hosts, passwords)


def vault_passwords_only(
    vault_password_files: Sequence[str] | None = None,
    vault_ids: Sequence[str] | None = None,
    ask_vault_pass: bool = False,
) -> tuple[VaultPassword, ...]:
    """The vault passwords of a command that reads no inventory option (`apply`: the plan
    names its inventories), ansible.cfg included."""
    config = read_ansible_config(os.environ)
    return resolve_vault_passwords(vault_password_files, vault_ids, ask_vault_pass, config=config)


def print_warnings(warnings: Iterable[str]) -> None:
    """Each warning on stderr in yellow, `warning: ...`, printed literally."""
    for warning in warnings:
        errors.print(
            Text("warning: ", style="yellow"),
            Text(safe(warning, WARNING_CHARS), style="yellow"),
            sep="",
            soft_wrap=True,
        )


def print_list_hosts(hosts: Sequence[Host], skipped: Sequence[SkippedHost]) -> None:
    """`--list-hosts` as `ansible PATTERN --list-hosts` prints it (lib/ansible/cli/adhoc.py:
    "  hosts (N):", then each name indented), then the hosts skipped and why."""
    console.print(f"  hosts ({len(hosts)}):", markup=False, highlight=False)
    for host in hosts:
        console.print(_text(f"    {host.name}"), soft_wrap=True)
    if skipped:
        console.print(f"  skipped ({len(skipped)}):", markup=False, highlight=False)
        for skip in skipped:
            console.print(_text(f"    {skip.name}: {skip.reason}"), soft_wrap=True)


def print_skipped(skipped: Sequence[SkippedHost]) -> None:
    """After a run: the hosts it left alone, and why (not errors: they change no exit code)."""
    for skip in skipped:
        console.print(_text(f"skipped: {skip.name}: {skip.reason}", "yellow"), soft_wrap=True)
