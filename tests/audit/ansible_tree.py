"""An Ansible tree as administrators keep one, for a small lab: what the tests of issue 14's
host handling audit (tests/audit/test_host_settings.py, tests/cli/test_inventory_options.py).

    inventories/prod/hosts.ini               exchange hosts; a host without a user; localhost
    inventories/prod/group_vars/all.yml      connection: winrm over HTTP, NTLM
    inventories/prod/group_vars/exchange/vars.yml   ansible_user, and
                                             ansible_password: "{{ vault_exchange_password }}"
    inventories/prod/group_vars/exchange/vault.yml  ansible-vault encrypted (or a !vault value)
    vault-pass.txt                           the vault password
"""

from __future__ import annotations

from pathlib import Path

from remediate.inventory.vault import encrypt
from remediate.lab.server import Lab
from tests.conftest import DEMO_FLEET, PASSWORD

HEALTHY = "ex2003-healthy.lab.local"  # compliant with every shipped playbook
NEEDS_FIX = "ex2003-kb840469-before.lab.local"  # missing KB840469's fix
NO_USER = "nouser.lab.local"  # in no group that sets ansible_user: never contacted
LOCAL = "localhost"  # ansible_connection=local: skipped
VAULT_PASSWORD = "correct horse battery staple"


def tree_lab(first_address: int) -> Lab:
    """The demo fleet's HEALTHY and NEEDS_FIX hosts on their own loopback addresses."""
    from remediate.lab.fleet import load_fleet

    fleet = load_fleet(DEMO_FLEET)
    fleet.hosts = [h for h in fleet.hosts if h.name in (HEALTHY, NEEDS_FIX)]
    for offset, spec in enumerate(fleet.hosts):
        spec.address = f"127.28.2.{first_address + offset}"
    return Lab(fleet, port_mode="ephemeral")


def write_tree(lab: Lab, root: Path, *, inline_vault: bool = False) -> Path:
    """Write the tree under `root`; returns the inventory folder (inventories/prod).

    `inline_vault` puts the password in a `!vault` value of a plain vault.yml instead of
    encrypting the whole file: a wrong vault password is then each host's own error.
    """
    prod = root / "inventories" / "prod"
    exchange_vars = prod / "group_vars" / "exchange"
    exchange_vars.mkdir(parents=True, exist_ok=True)
    lines = [
        "# The production Exchange fleet (ansible-inventory -i inventories/prod)",
        "[exchange]",
    ]
    for name in (HEALTHY, NEEDS_FIX):
        endpoint = lab.endpoint(name)
        lines.append(f"{name} ansible_host={endpoint.address} ansible_port={endpoint.http_port}")
    lines += [
        "",
        "[unmanaged]",
        f"{NO_USER} ansible_host=127.0.0.1 ansible_port=9",
        "",
        "[controller]",
        f"{LOCAL} ansible_connection=local",
        "",
    ]
    (prod / "hosts.ini").write_text("\n".join(lines), encoding="utf-8")
    (prod / "group_vars" / "all.yml").write_text(
        "ansible_connection: winrm\nansible_winrm_transport: ntlm\nansible_winrm_scheme: http\n"
        "ansible_winrm_operation_timeout_sec: 5\nansible_winrm_read_timeout_sec: 15\n",
        encoding="utf-8",
    )
    (exchange_vars / "vars.yml").write_text(
        "ansible_user: 'LAB\\Administrator'\nansible_password: \"{{ vault_exchange_password }}\"\n",
        encoding="utf-8",
    )
    secret = f"vault_exchange_password: '{PASSWORD}'\n"
    if inline_vault:
        envelope = encrypt(PASSWORD, VAULT_PASSWORD).splitlines()
        vault = "vault_exchange_password: !vault |\n" + "".join(f"  {x}\n" for x in envelope)
    else:
        vault = encrypt(secret, VAULT_PASSWORD)
    (exchange_vars / "vault.yml").write_text(vault, encoding="utf-8")
    (root / "vault-pass.txt").write_text(VAULT_PASSWORD + "\n", encoding="utf-8")
    return prod
