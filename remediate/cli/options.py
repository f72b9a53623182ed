"""The options and arguments the commands share, declared once as `Annotated` aliases.

A command names its parameter with the alias and gives only its default, e.g.
`timeout: Timeout = 120.0`, so `--limit` or `--ask-pass` read the same in every `--help`.
Also here: what a command knows of its caller beyond the options (`who`), and reading the
`--since`/`--keep` durations.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from remediate.errors import InputError

# What to audit. The inventory options are the same on every command that reads one; turn
# them into sources and vault passwords with `remediate.cli.inventory_options`.
InventoryArg = Annotated[
    Path | None,
    typer.Argument(
        help="Ansible inventory: an INI or YAML file, a folder (with group_vars/ and "
        "host_vars/ beside it), or a host list such as ex01,ex02, (default: -i, else "
        "ANSIBLE_INVENTORY, else `inventory` in ansible.cfg).",
        metavar="INVENTORY",
        show_default=False,
    ),
]
InventoryOption = Annotated[
    list[str] | None,
    typer.Option(
        "--inventory",
        "-i",
        help="Inventory file, folder or host list, as `ansible -i` (repeatable: all are "
        "read, in order, after the INVENTORY argument).",
        metavar="SOURCE",
        show_default=False,
    ),
]
VaultPasswordFiles = Annotated[
    list[str] | None,
    typer.Option(
        "--vault-password-file",
        help="File holding a vault password, or an executable that prints it (repeatable). "
        "Default: ANSIBLE_VAULT_PASSWORD_FILE, else vault_password_file in ansible.cfg.",
        metavar="FILE",
        show_default=False,
    ),
]
VaultIds = Annotated[
    list[str] | None,
    typer.Option(
        "--vault-id",
        help="A vault password for one vault id: label@file, label@prompt, or a file "
        "(repeatable, as ansible's --vault-id; also ANSIBLE_VAULT_IDENTITY_LIST).",
        metavar="LABEL@SOURCE",
        show_default=False,
    ),
]
AskVaultPass = Annotated[
    bool,
    typer.Option(
        "--ask-vault-pass",
        "-J",
        help="Prompt for the vault password (for vault-encrypted inventory files and "
        "!vault values).",
    ),
]
ListHosts = Annotated[
    bool,
    typer.Option(
        "--list-hosts",
        help="Print the hosts the inventory and --limit select (and those skipped, with "
        "why), then exit without contacting any.",
    ),
]
Limit = Annotated[
    str | None,
    typer.Option("--limit", "-l", help="Ansible host pattern: web*:&exch:!down, @retryfile."),
]
PlaybookPaths = Annotated[
    list[Path] | None,
    typer.Option("--playbooks", "-p", help="Playbook folder or files (repeatable)."),
]
PlaybookFolder = Annotated[Path, typer.Option("--playbooks", help="Playbook folder.")]
Since = Annotated[str, typer.Option(help="Look at events this far back: 7d, 12h, 2w.")]

# How to reach the hosts.
Timeout = Annotated[
    float, typer.Option(min=1, help="Seconds one host may take, connection included.")
]
Forks = Annotated[int, typer.Option(min=1, max=1000, help="Hosts worked on at once.")]
AskPass = Annotated[bool, typer.Option("--ask-pass", "-k", help="Prompt once for the password.")]
AllowInsecure = Annotated[bool, typer.Option(help="Allow Basic authentication over plain HTTP.")]

# Where results go.
ReportFolder = Annotated[Path, typer.Option("--output", "-o", help="Report folder.")]
ReportFormats = Annotated[
    str,
    typer.Option("--format", "-f", help="Report formats, comma separated: html,json,junit,csv,md."),
]
HistoryDatabase = Annotated[Path, typer.Option("--history", help="History database.")]

# The lab and plans.
FleetFile = Annotated[Path, typer.Option("--fleet", help="Fleet YAML file.")]
PlanFile = Annotated[Path, typer.Argument(help="Plan file (from `remediate plan`).")]

DEFAULT_PLAYBOOKS = Path("playbooks")
DEFAULT_DRAFTS = DEFAULT_PLAYBOOKS / "drafts"
"""Where `kb import` writes: a subfolder, which `audit` never reads unless named (a folder's
playbooks are its own .yml/.yaml files, not its subfolders': `rules.playbook.playbook_files`)."""
DEFAULT_REPORTS = Path("reports")
DEFAULT_HISTORY = DEFAULT_REPORTS / "history.sqlite"
DEFAULT_FLEET = Path("inventory/lab/demo.yml")


MAX_DURATION = timedelta(days=36_500)
"""The longest --since/--keep/--step-timeout: a century. Longer ones are typing mistakes, and
`now - 999999999d` is before year 1, which no date can hold (OverflowError)."""


def duration(option: str, text: str) -> timedelta:
    """`7d`, `12h`, `2w` as a timedelta; InputError naming the option otherwise."""
    from remediate.rules.playbook import parse_duration

    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise InputError(f"{option}: {exc}") from None
    if value > MAX_DURATION:
        raise InputError(f"{option}: {text[:40]!r} is longer than {MAX_DURATION.days}d (a century)")
    return value


def who() -> str:
    """The account running the command, `user@machine`, as plans and journals record it."""
    from remediate.audit.session import run_by

    return run_by()


# How much of each connection to show on stderr (issue 14). Declared once: the root callback
# takes it, and `remediate.cli` gives the same option to every command, so it may come before
# the command (`remediate -vv audit hosts.ini`) or after it (`remediate audit -vv hosts.ini`).
Verbose = Annotated[
    int,
    typer.Option(
        "--verbose",
        "-v",
        count=True,
        show_default=False,
        help="Connection detail on stderr: -v endpoints, authentication and timings; "
        "-vv every request; -vvv header sizes and retries. Secrets are never shown.",
    ),
]
