"""`group_vars/` and `host_vars/` beside the inventory, found and read as Ansible does.

ansible-core's `host_group_vars` vars plugin (lib/ansible/plugins/vars/host_group_vars.py) and
`DataLoader.find_vars_files` (lib/ansible/parsing/dataloader.py), 2.19:

* the folders sit in the directory of each inventory source (the source itself when it is a
  directory), one pair per source, read in the order the sources were given;
* for an entity `NAME`, the first of `NAME`, `NAME.yml`, `NAME.yaml`, `NAME.json` that exists
  is used; when it is a directory, every file in it and its subdirectories, sorted, skipping
  names starting with `.` or ending with `~`, and files whose extension is not one of those;
* an empty file adds nothing; a file that is not a mapping is an error;
* a whole file encrypted with `ansible-vault` is decrypted with the vault passwords given.

Each file is read once, however many hosts share it: reading is linear in the files' size.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from remediate.errors import InputError
from remediate.inventory.ansible_yaml import load_ansible_yaml
from remediate.inventory.data import Assignment
from remediate.inventory.model import Origin
from remediate.inventory.vault import VaultedValue, VaultPassword, decrypt_text, is_vault
from remediate.yamlfile import MAX_YAML_CHARS

EXTENSIONS = ("", ".yml", ".yaml", ".json")  # ansible-core's [''] + YAML_FILENAME_EXTENSIONS

MAX_VARS_FILE_BYTES = MAX_YAML_CHARS * 4
"""A vars file is YAML read up to MAX_YAML_CHARS characters; a vault-encrypted one is its hex
envelope, some 2.1 times the size of its plain text, read up to this many bytes."""


def basedir(source: str | Path) -> Path:
    """Where a source's `group_vars/` and `host_vars/` live: its folder, or itself."""
    path = Path(source)
    return path if path.is_dir() else path.parent


class AdjacentVars:
    """The vars files beside the sources, by entity name (see `InventoryData.build`)."""

    def __init__(
        self,
        sources: Sequence[str | Path],
        vault_passwords: Sequence[VaultPassword] = (),
        warnings: list[str] | None = None,
    ) -> None:
        self.basedirs = list(dict.fromkeys(basedir(source) for source in sources))
        self.vault_passwords = tuple(vault_passwords)
        self.warnings = warnings if warnings is not None else []
        self._files: dict[Path, list[Assignment]] = {}
        self._found: dict[tuple[Path, str], list[Path]] = {}
        self._folders = {
            (base, kind): self._folder(base / kind)
            for base in self.basedirs
            for kind in ("group_vars", "host_vars")
        }

    def for_groups(self, names: Sequence[str]) -> Iterable[Assignment]:
        for base in self.basedirs:  # as get_vars_from_inventory_sources: sources outside
            for name in names:
                yield from self._entity(base, "group_vars", name)

    def for_host(self, name: str) -> Iterable[Assignment]:
        for base in self.basedirs:
            yield from self._entity(base, "host_vars", name)

    def _folder(self, folder: Path) -> Path | None:
        if folder.is_dir():
            return folder
        if folder.exists():  # as Ansible: "Found group_vars that is not a directory, skipping"
            self.warnings.append(f"{folder}: is not a directory; skipped")
        return None

    def _entity(self, base: Path, kind: str, name: str) -> Iterable[Assignment]:
        folder = self._folders[(base, kind)]
        if folder is None or not name or name in (".", "..") or name.startswith(os.sep):
            return  # Ansible skips `/chroot`-style names; `.`, `..` would leave the folder
        key = (folder, name)
        files = self._found.get(key)
        if files is None:
            files = self._found[key] = _find(folder, name)
        for path in files:
            assignments = self._files.get(path)
            if assignments is None:
                assignments = self._files[path] = read_vars_file(
                    path, self.vault_passwords, self.warnings
                )
            yield from assignments


def _find(folder: Path, name: str) -> list[Path]:
    for extension in EXTENSIONS:
        candidate = folder / f"{name}{extension}"
        if candidate.is_dir():
            return _walk(candidate)
        if candidate.exists():
            return [candidate]
    return []


def _walk(folder: Path) -> list[Path]:
    """Every vars file under `folder`, sorted by name level by level, as Ansible lists them."""
    found: list[Path] = []
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        message = f"cannot list the folder: {exc.strerror or exc}"
        raise InputError(message, file=str(folder)) from None
    for entry in names:
        if entry.startswith(".") or entry.endswith("~"):
            continue
        path = folder / entry
        extension = os.path.splitext(entry)[1]
        if path.is_dir() and not extension:
            found += _walk(path)
        elif path.is_file() and extension in EXTENSIONS:
            found.append(path)
    return found


def read_vars_file(
    path: Path, vault_passwords: Sequence[VaultPassword], warnings: list[str]
) -> list[Assignment]:
    """The variables one file sets, in file order, each with its line; InputError if bad."""
    source = str(path)
    text, via = _text(path, vault_passwords)
    stripped = text.lstrip()
    if not stripped:
        return []
    data: Any
    lines: dict[str, int | None] = {}
    if stripped.startswith("{") and path.suffix == ".json":
        data = _json(text, source)
    else:
        document = load_ansible_yaml(text, source, warnings)
        data = document.data
        if isinstance(data, dict):
            lines = {str(key): document.key_line(data, key) for key in data}
    if data is None:
        return []
    if not isinstance(data, dict):
        raise InputError(
            f"a vars file must be a mapping of variable names to values, not {_kind(data)}",
            file=source,
            hint="write `name: value` lines at the top level",
        )
    assignments: list[Assignment] = []
    for key, value in data.items():
        if not isinstance(key, str):
            raise InputError(
                f"variable names are text, not {_kind(key)} ({key!r:.40})",
                file=source,
                line=lines.get(str(key)),
            )
        secret_via = via or ("vault" if isinstance(value, VaultedValue) else None)
        assignments.append((key, value, Origin(source, lines.get(key), secret_via)))
    return assignments


def _text(path: Path, vault_passwords: Sequence[VaultPassword]) -> tuple[str, str | None]:
    source = str(path)
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_VARS_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the vars file: {exc.strerror or exc}", file=source) from None
    if len(raw) > MAX_VARS_FILE_BYTES:
        raise InputError(
            f"a vars file is read up to {MAX_VARS_FILE_BYTES:,} bytes; this one is larger",
            file=source,
            hint="is this the right file? split it into a folder of files",
        )
    if is_vault(raw):
        return decrypt_text(raw, vault_passwords, file=source), "vault"
    try:
        return raw.decode("utf-8").removeprefix("\ufeff"), None
    except UnicodeDecodeError:
        message = "the vars file is not UTF-8 text"
        raise InputError(message, file=source, hint="save as UTF-8") from None


def _json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", file=source, line=exc.lineno) from None
    except RecursionError:
        raise InputError("not valid JSON: nested too deeply", file=source) from None


def _kind(value: Any) -> str:
    return {list: "a list", str: "text", int: "a number", float: "a number", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )
