"""YAML as Ansible reads its inventories and vars files: `!vault`, `!unsafe`, lenient keys.

The YAML itself is read by `remediate.yamlfile` (lines kept, size, nesting and alias bombs
refused). On top, what ansible-core's `AnsibleLoader` adds (lib/ansible/_internal/_yaml/
_constructor.py in 2.19): `!vault` values stay encrypted until used (`VaultedValue`),
`!unsafe` text is never templated (`UnsafeText`), and a key written twice is a warning, the
last value winning (ansible-core's default `DUPLICATE_YAML_DICT_KEY = warn`).
"""

from __future__ import annotations

from typing import Any

from remediate.errors import InputError
from remediate.inventory.model import UnsafeText
from remediate.inventory.vault import vault_constructor
from remediate.yamlfile import MAX_YAML_CHARS, LocatedDocument, YamlInputError, load_located


def _unsafe_constructor(loader: Any, node: Any) -> Any:
    """`!unsafe` on text gives UnsafeText; on a list or mapping, every text inside is unsafe."""
    import yaml

    if isinstance(node, yaml.ScalarNode):
        return UnsafeText(loader.construct_scalar(node))
    if isinstance(node, yaml.SequenceNode):
        return [_unsafe(item) for item in loader.construct_sequence(node, deep=True)]
    return {key: _unsafe(item) for key, item in loader.construct_mapping(node, deep=True).items()}


def _unsafe(value: Any) -> Any:
    if isinstance(value, str):
        return UnsafeText(value)
    if isinstance(value, list):
        return [_unsafe(item) for item in value]
    if isinstance(value, dict):
        return {key: _unsafe(item) for key, item in value.items()}
    return value


TAGS = {"!vault": vault_constructor, "!unsafe": _unsafe_constructor}


def load_ansible_yaml(
    text: str, source: str, warnings: list[str], *, max_chars: int = MAX_YAML_CHARS
) -> LocatedDocument:
    """Parse an Ansible YAML file; InputError names the file and line of a problem.

    Duplicate keys are appended to `warnings` (file, both lines), as Ansible warns.
    """

    def duplicate(key: str, first: int, line: int) -> None:
        warnings.append(
            f"{source}:{line}: key {key[:60]!r} is also on line {first}; the last one is used"
        )

    try:
        return load_located(text, source, tags=TAGS, on_duplicate=duplicate, max_chars=max_chars)
    except YamlInputError as exc:
        message = str(exc).removeprefix(f"{source}:").removeprefix(f"{exc.line}:").strip()
        raise InputError(message, file=source, line=exc.line) from None
