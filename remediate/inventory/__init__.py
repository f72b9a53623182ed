"""Ansible inventories and nothing else: which hosts there are, their groups and variables.

`sources` reads what `-i` names (files, folders, host lists) into one `data`, through the
`ini` and `yaml_inventory` formats, with `vars_files` (group_vars/, host_vars/) and `vault`;
`model` is what an inventory is once read; `patterns` picks hosts with `--limit`; `config`
and `vault_passwords` are ansible.cfg and the vault password sources. No transport and no
connection settings here: those read the variables in `remediate.connect`.
"""

from remediate.inventory.ini import load_inventory, parse_inventory
from remediate.inventory.model import Group, Host, Inventory, Origin
from remediate.inventory.patterns import hosts_for, select_hosts
from remediate.inventory.sources import InventorySources, load_sources, source_list

__all__ = [
    "Group",
    "Host",
    "Inventory",
    "InventorySources",
    "Origin",
    "hosts_for",
    "load_inventory",
    "load_sources",
    "parse_inventory",
    "select_hosts",
    "source_list",
]
