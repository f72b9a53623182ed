"""`remediate inventory`: the hosts of an inventory as the audit would reach them.

Everything here comes from files an administrator wrote, so it is printed literally (`[red]`
or an IPv6 address `[fe80::1]` is not console markup), and secrets are `***`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from remediate.cli.console import console, literal
from remediate.cli.options import AllowInsecure, InventoryArg, Limit

if TYPE_CHECKING:
    from remediate.connect.variables import Shown
    from remediate.inventory import Host

LINE_LIMIT = 2000


def inventory(
    inventory: InventoryArg,
    limit: Limit = None,
    show_vars: Annotated[
        bool,
        typer.Option(
            "--vars",
            help="Show every connection setting and variable, and where each value came from.",
        ),
    ] = False,
    allow_insecure: AllowInsecure = False,
) -> None:
    """List the hosts of an inventory with their groups and connection settings."""
    from remediate.connect.passwords import env_names, find_password
    from remediate.connect.variables import connection_settings, explain
    from remediate.inventory import hosts_for, load_inventory

    loaded = load_inventory(inventory)
    hosts = hosts_for(loaded, limit)
    table = Table(title=literal(f"{inventory}: {len(hosts)} host(s)"))
    for column in ("host", "groups", "connection"):
        table.add_column(column, overflow="fold")
    details = []
    for host in hosts:
        choice = find_password(host)
        settings = connection_settings(
            host, allow_insecure=allow_insecure, password=choice.secret if choice else None
        )
        if choice is not None:
            where = f"from {choice.source}"
        else:
            where = "not in the inventory nor in " + ", ".join(env_names(host))
        rows = explain(host, settings, password_source=where)
        table.add_row(literal(host.name), literal(", ".join(host.groups)), _summary(rows))
        details.append((host, rows))
    console.print(table)
    if show_vars:
        for host, rows in details:
            _print_details(host, rows)


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
