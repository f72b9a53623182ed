"""Inventory sources as `ansible -i` takes them: files, folders, host lists, several at once.

ansible-core's `InventoryManager.parse_sources` (lib/ansible/inventory/manager.py, 2.19):

* every source adds to the same inventory, in the order given (`-i a -i b`);
* a folder is read file by file in sorted order, subfolders too, skipping names that start
  with `.`, the folders `group_vars`, `host_vars` and `vars_plugins`, and the extensions of
  `INVENTORY_IGNORE_EXTS` (`.pyc .pyo .swp .bak ~ .rpm .md .txt .rst .orig .cfg .retry`);
* a source with a comma that is not a file is a host list (`ex01,ex02:5986,`);
* a file is tried by the enabled plugins in turn: `yaml` for `.yml`, `.yaml`, `.json` or no
  extension, then `ini`. An encrypted file is decrypted first.

Then `group_vars/` and `host_vars/` beside each top-level source (`vars_files`), merged in
Ansible's precedence (`data`).

Stricter than Ansible, which warns "Unable to parse ... as an inventory source" and goes on
with fewer hosts: a source that is missing or cannot be read is an error naming it, so an
audit never quietly covers less than the administrator asked for. Inventory scripts and
plugin configurations (`plugin: aws_ec2`) are refused with a clear error: nothing is run.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from remediate.errors import InputError
from remediate.inventory.ansible_yaml import load_ansible_yaml
from remediate.inventory.data import InventoryData
from remediate.inventory.ini import MAX_INVENTORY_CHARS, decode_inventory, read_ini, split_address
from remediate.inventory.model import Inventory, Origin
from remediate.inventory.vars_files import AdjacentVars
from remediate.inventory.vault import VaultPassword, decrypt_text, is_vault
from remediate.inventory.yaml_inventory import MAX_YAML_INVENTORY_CHARS, read_yaml_inventory

InventorySources = str | Path | Sequence[str | Path]
"""One inventory source or several, as `-i` gives them."""

IGNORED_NAMES = ("group_vars", "host_vars", "vars_plugins")
IGNORED_EXTENSIONS = (
    # REJECT_EXTS, then INVENTORY_IGNORE_EXTS' own (lib/ansible/config/base.yml, 2.19)
    *(".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst"),
    *(".orig", ".cfg", ".retry"),
)
YAML_EXTENSIONS = ("", ".yml", ".yaml", ".json")  # the yaml plugin's `yaml_extensions` + none

MAX_FILES = 10_000
"""A folder source read file by file stops being an inventory well before this many files."""


def source_list(sources: InventorySources) -> list[str]:
    """The sources as strings, one or several."""
    if isinstance(sources, str | Path):
        return [str(sources)]
    return [str(source) for source in sources]


def load_sources(
    sources: InventorySources,
    *,
    vault_passwords: Sequence[VaultPassword] = (),
) -> Inventory:
    """Read every source into one inventory, with the vars files beside them.

    InputError names the source, file and line of any problem; `Inventory.warnings` holds
    what Ansible would only warn about.
    """
    paths = source_list(sources)
    if not paths:
        raise InputError("no inventory given", hint="give an inventory file or folder")
    data = InventoryData()
    warnings: list[str] = []
    reader = _Reader(data, warnings, tuple(vault_passwords))
    on_disk: list[str] = []
    for source in paths:
        if _is_host_list(source):
            reader.host_list(source)
            continue
        reader.source(Path(source))
        on_disk.append(source)
    vars_files = AdjacentVars(on_disk, vault_passwords, warnings) if on_disk else None
    inventory = data.build(", ".join(paths), vars_files)
    return replace(inventory, warnings=tuple(warnings))


def _is_host_list(source: str) -> bool:
    return "," in source and not os.path.exists(source)


class _Reader:
    """Reads sources into `data`, counting files so that a huge folder stops early."""

    def __init__(
        self, data: InventoryData, warnings: list[str], passwords: tuple[VaultPassword, ...]
    ) -> None:
        self.data = data
        self.warnings = warnings
        self.passwords = passwords
        self.files = 0

    def source(self, path: Path) -> None:
        try:
            kind = "folder" if path.is_dir() else "file" if path.exists() else None
        except OSError as exc:  # a name too long for the file system, a loop of links
            raise InputError(
                f"cannot use this inventory path: {exc.strerror or exc}", file=str(path)[:300]
            ) from None
        if kind == "folder":
            self.folder(path)
        elif kind == "file":
            self.file(path)
        else:
            raise InputError(
                "no such inventory file or folder",
                file=str(path),
                hint="check the path (-i, the inventory argument, ANSIBLE_INVENTORY, ansible.cfg)",
            )

    def folder(self, folder: Path) -> None:
        try:
            names = sorted(os.listdir(folder))
        except OSError as exc:
            raise InputError(
                f"cannot list the inventory folder: {exc.strerror or exc}", file=str(folder)
            ) from None
        for name in names:
            if name.startswith(".") or name in IGNORED_NAMES or name.endswith(IGNORED_EXTENSIONS):
                continue
            self.source(folder / name)

    def file(self, path: Path) -> None:
        self.files += 1
        if self.files > MAX_FILES:
            raise InputError(
                f"more than {MAX_FILES:,} inventory files; is this the right folder?",
                file=str(path.parent),
            )
        source = str(path)
        text, encrypted = self._text(path)
        self._read(path, source, text)
        if encrypted:
            self.data.conceal(source)

    def _read(self, path: Path, source: str, text: str) -> None:
        if text.startswith("#!") and os.access(path, os.X_OK):
            raise InputError(
                "this looks like an inventory script; remediate does not run inventory scripts",
                file=source,
                line=1,
                hint="export its hosts to an INI or YAML inventory and give that",
            )
        if path.suffix.lower() in YAML_EXTENSIONS and self._yaml(text, source, path.suffix):
            return
        read_ini(text, source, self.data)

    def _yaml(self, text: str, source: str, suffix: str) -> bool:
        """Read `text` as a YAML inventory when it is one; False to try INI instead."""
        warnings: list[str] = []  # kept only if this is YAML after all
        try:
            document = load_ansible_yaml(text, source, warnings, max_chars=MAX_YAML_INVENTORY_CHARS)
        except InputError:
            if suffix:  # .yml/.yaml/.json: the YAML error is the one that helps
                raise
            return False  # no extension: Ansible's INI plugin is tried next
        if document.data is not None and not isinstance(document.data, dict):
            if suffix:
                raise InputError(
                    "a YAML inventory must be a mapping of group names (all:, exchange:, ...)",
                    file=source,
                    line=1,
                )
            return False
        self.warnings += warnings
        read_yaml_inventory(document, source, self.data, self.warnings)
        return True

    def _text(self, path: Path) -> tuple[str, bool]:
        """The file's text, decrypted if it was encrypted (then True)."""
        source = str(path)
        try:
            with path.open("rb") as stream:
                raw = stream.read(MAX_INVENTORY_CHARS * 4 + 1)  # UTF-8: up to 4 bytes a character
        except OSError as exc:
            raise InputError(
                f"cannot read the inventory: {exc.strerror or exc}", file=source
            ) from None
        if len(raw) > MAX_INVENTORY_CHARS * 4:
            raise InputError(
                f"the inventory is more than {MAX_INVENTORY_CHARS * 4:,} bytes; inventories are"
                f" read up to {MAX_INVENTORY_CHARS:,} characters",
                file=source,
                hint="split it into several inventories, or check that this is an inventory",
            )
        if is_vault(raw):
            return decrypt_text(raw, self.passwords, file=source), True
        return decode_inventory(raw, source), False

    def host_list(self, source: str) -> None:
        """`ex01,ex02:5986,`: each name a host of `ungrouped`, as the host_list plugin reads."""
        origin = Origin("<host list>")
        for item in source.split(","):
            name = item.strip()
            if not name:
                continue
            split = split_address(name)
            if split is None:
                raise InputError(
                    f"{name[:80]!r} in the host list {source[:80]!r} is not a host name",
                    hint="a host list is names separated by commas, e.g. ex01,ex02:5986,",
                )
            host, port = split
            self.data.add_host(host, "ungrouped", origin)
            if port is not None:
                self.data.set_host_var(host, "ansible_port", int(port), origin)
