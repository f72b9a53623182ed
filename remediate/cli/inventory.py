"""`remediate inventory`: the hosts of an inventory as the audit would reach them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from remediate.cli.console import console, safe
from remediate.cli.options import AllowInsecure, InventoryArg, Limit


def inventory(
    inventory: InventoryArg,
    limit: Limit = None,
    show_vars: Annotated[
        bool, typer.Option("--vars", help="Show every variable and the connection settings.")
    ] = False,
    allow_insecure: AllowInsecure = False,
) -> None:
    """List the hosts of an inventory with their groups and connection settings."""
    from remediate.connect.passwords import password_in_inventory
    from remediate.connect.variables import connection_settings, describe
    from remediate.inventory import hosts_for, load_inventory

    loaded = load_inventory(inventory)
    hosts = hosts_for(loaded, limit)
    table = Table(title=f"{inventory}: {len(hosts)} host(s)")
    for column in ("host", "groups", "connection"):
        table.add_column(column, overflow="fold")
    for host in hosts:
        choice = password_in_inventory(host)
        password = choice.secret if choice else None
        settings = connection_settings(host, allow_insecure=allow_insecure, password=password)
        rows = describe(host, settings)
        summary = ", ".join(f"{k}={v}" for k, v in rows[:4])
        table.add_row(safe(host.name), safe(", ".join(host.groups)), safe(summary))
        if show_vars:
            for key, value in rows[4:]:
                table.add_row("", "", safe(f"{key}={value}"))
    console.print(table)
