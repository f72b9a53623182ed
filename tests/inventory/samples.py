"""A realistic inventory and the helpers the inventory and connection tests share."""

from __future__ import annotations

from pathlib import Path

from remediate.inventory import Host, Inventory, load_inventory

FLEET = """\
# Production Exchange fleet, as used with ansible-playbook -i hosts.ini
; a semicolon starts a comment too
jump.corp.local ansible_host=10.1.0.4 ansible_connection=ssh ansible_user=audit

[mailbox]
exch[01:03].corp.local
exch10.corp.local:5985    # legacy box, HTTP only
exch11.corp.local ansible_host=10.1.2.11 ansible_port=5986 maintenance=True site="'0042'"

[edge]  # DMZ
edge-[a:b].dmz.local ansible_winrm_server_cert_validation=ignore
[2001:db8::25]:5986 ansible_winrm_message_encryption=always

[exchange:children]
mailbox
edge

[legacy]
ex2003.corp.local ansible_winrm_transport=basic ansible_port=5985 ansible_password="'P@ss #2003'"

[mailbox:vars]
ansible_winrm_read_timeout_sec=70
ansible_winrm_operation_timeout_sec=60
site = paris

[exchange:vars]
ansible_winrm_ca_trust_path=/etc/pki/corp-ca.pem
site=lyon
patch_window=Sunday 02:00 # a :vars value runs to the end of the line

[all:vars]
ansible_connection=winrm
ansible_user=CORP\\svc_audit
ansible_password=Summer2024!
ansible_winrm_transport=ntlm
"""

ORDER = [
    "jump.corp.local",
    "ex2003.corp.local",
    "exch01.corp.local",
    "exch02.corp.local",
    "exch03.corp.local",
    "exch10.corp.local",
    "exch11.corp.local",
    "edge-a.dmz.local",
    "edge-b.dmz.local",
    "2001:db8::25",
]


def write(tmp_path: Path, text: str, name: str = "hosts.ini") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Inventory:
    return load_inventory(write(tmp_path, text))


def names(hosts: list[Host]) -> list[str]:
    return [host.name for host in hosts]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)
