"""Ansible inventories and nothing else: which hosts there are, their groups and variables.

`model` is what an inventory is once read, `ini` reads `hosts.ini` files as Ansible does,
`patterns` picks hosts with `--limit`. No transport and no connection settings here: those
read the variables in `remediate.connect`.
"""

from remediate.inventory.ini import load_inventory, parse_inventory
from remediate.inventory.model import Group, Host, Inventory, Origin
from remediate.inventory.patterns import hosts_for, select_hosts

__all__ = [
    "Group",
    "Host",
    "Inventory",
    "Origin",
    "hosts_for",
    "load_inventory",
    "parse_inventory",
    "select_hosts",
]
