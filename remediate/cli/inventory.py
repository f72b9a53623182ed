"""`remediate inventory`: the hosts of an inventory as the audit would reach them.

Everything here comes from files an administrator wrote, so it is printed literally (`[red]`
or an IPv6 address `[fe80::1]` is not console markup), and secrets are `***`. Variables are
shown as the audit reads them: templates rendered, vault values opened (and masked). A host
whose settings cannot work is listed with the reason, as the audit would report it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from remediate.cli.console import console, literal
from remediate.cli.options import (
    AllowInsecure,
    AskVaultPass,
    InventoryArg,
    InventoryOption,
    Limit,
    VaultIds,
    VaultPasswordFiles,
)

if TYPE_CHECKING:
    from remediate.connect.variables import Shown
    from remediate.inventory import Host

LINE_LIMIT = 2000


def inventory(
    inventory: InventoryArg = None,
    sources: InventoryOption = None,
    limit: Limit = None,
    show_vars: Annotated[
        bool,
        typer.Option(
            "--vars",
            help="Show every connection setting and variable, and where each value came from.",
        ),
    ] = False,
    allow_insecure: AllowInsecure = False,
    vault_password_file: VaultPasswordFiles = None,
    vault_id: VaultIds = None,
    ask_vault_pass: AskVaultPass = False,
) -> None:
    """List the hosts of an inventory with their groups and connection settings."""
    from remediate.cli.inventory_options import choose_inventory
    from remediate.connect.templating import rendered

    chosen = choose_inventory(
        inventory, sources, limit, vault_password_file, vault_id, ask_vault_pass
    )
    table = Table(title=literal(f"{', '.join(chosen.sources)}: {len(chosen.hosts)} host(s)"))
    for column in ("host", "groups", "connection"):
        table.add_column(column, overflow="fold")
    details = []
    for written in chosen.hosts:
        host = rendered(written, vault_passwords=chosen.vault_passwords)
        rows, summary = _host_rows(host, allow_insecure)
        table.add_row(literal(host.name), literal(", ".join(host.groups)), summary)
        details.append((host, rows))
    console.print(table)
    if show_vars:
        for host, rows in details:
            _print_details(host, rows)


def _host_rows(host: Host, allow_insecure: bool) -> tuple[list[Shown], Text]:
    """The host's `--vars` rows and its table cell; a skip or a settings problem is shown
    (first row and cell), as the audit would report it, instead of stopping the listing."""
    from remediate.connect.passwords import env_names, find_password
    from remediate.connect.targets import skipped_connection
    from remediate.connect.variables import Shown, connection_settings, explain
    from remediate.errors import RemediateError

    skip = skipped_connection(host)
    if skip is not None:
        return [Shown("skipped", skip.reason), *explain(host, None)], literal(
            f"skipped: {skip.reason}", style="yellow"
        )
    try:
        choice = find_password(host)
        settings = connection_settings(
            host, allow_insecure=allow_insecure, password=choice.secret if choice else None
        )
    except RemediateError as exc:
        problem = _problem(exc)
        return [Shown("problem", problem), *explain(host, None)], literal(problem, style="red")
    if choice is not None:
        where = f"from {choice.source}"
    else:
        where = "not in the inventory nor in " + ", ".join(env_names(host))
    rows = explain(host, settings, password_source=where)
    return rows, _summary(rows)


def _problem(error: Exception) -> str:
    """A settings error as the audit reports it (file:line, message, hint; no host name: the
    row says which host)."""
    from remediate.errors import RemediateError

    if not isinstance(error, RemediateError):
        return f"unexpected {type(error).__name__}"
    where = f"{error.file}:{error.line}: " if error.file and error.line else ""
    where = where or (f"{error.file}: " if error.file else "")
    hint = f" (hint: {error.hint})" if error.hint else ""
    return f"{where}{error.message}{hint}"


def _summary(rows: list[Shown]) -> Text:
    """The table's connection cell: the connection, its endpoint, and how it logs on."""
    shown = {row.name: row.value for row in rows if not row.variable}
    parts = [shown.get("connection", ""), shown.get("endpoint", "")]
    if "auth" in shown:
        parts.append(f"auth {shown['auth']}")
    parts.append(f"user {shown.get('user', '(none)')}")
    return literal(" ".join(part for part in parts if part))


def _print_details(host: Host, rows: list[Shown]) -> None:
    """`name = value  (from source)`, one line each: the connection settings, then every
    variable of the host as Ansible would merge it."""
    console.print()
    console.print(literal(host.name, style="bold"))
    width = max(len(row.name) for row in rows)
    heading_done = False
    for row in rows:
        if row.variable and not heading_done:
            console.print(Text("  variables:", style="dim"))
            heading_done = True
        line = f"  {row.name:<{width}} = {row.value}"
        if row.source:
            line += f"  ({row.source})"
        console.print(literal(line, LINE_LIMIT), soft_wrap=True)
