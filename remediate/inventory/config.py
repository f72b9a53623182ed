"""The part of `ansible.cfg` that decides which inventory and which vault passwords a run uses.

An administrator's Ansible tree names its inventory in `ansible.cfg` (`[defaults] inventory =
inventories/prod`); a run without `-i` must find the same inventory `ansible-playbook` would.
Everything here follows ansible-core 2.19 (read in its source, not guessed):

* Which file (lib/ansible/config/manager.py, `find_ini_config_file`): the first that exists and
  is readable of `$ANSIBLE_CONFIG` (a directory means its `ansible.cfg`), `./ansible.cfg`
  (skipped with a warning when the current directory is world-writable: anyone could plant
  one), `~/.ansible.cfg`, `/etc/ansible/ansible.cfg`. Its name must end in `.cfg` or `.ini`
  (`get_config_type`).
* How it is read (`_parse_config_file`, `_get_ini_config_value`): Python's configparser with
  `inline_comment_prefixes=(';',)` and values fetched `raw=True`, so `%` is literal; `#` and
  `;` start full-line comments, only `;` after whitespace an inline one; option names are
  case-insensitive, section names are not; a `[DEFAULT]` section feeds `[defaults]`; a
  duplicate section or option, a line without `=`/`:`, text before the first section, and
  bytes that are not UTF-8 make Ansible refuse the file. We read it with our own reader of
  the same rules, because configparser's option pattern is quadratic on long lines.
* What the settings mean (lib/ansible/config/base.yml): `inventory` (DEFAULT_HOST_LIST) is a
  `pathlist`, `vault_password_file` a `path`, `vault_identity_list` a `list`. `ensure_type`
  splits on `,`; a path gets `{{CWD}}` replaced, `$VARS` then `~` expanded (`unfrackpath`),
  and when relative is joined to the directory of the config file it came from, or to the
  current directory when it came from the environment. Quotes around a path are kept
  literally (checked against ansible-core); list items are unquoted. The environment beats
  the file (`get_config_value_and_origin` tries `env` before `ini`).

Where we differ, on purpose: an empty entry (`inventory = a,`, or an empty value) would make
Ansible read the config's own directory as an inventory, and an empty `ANSIBLE_CONFIG` would
bypass the world-writable check; we drop such entries with a warning and treat an empty
variable as unset.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from remediate.errors import InputError

SYSTEM_CONFIG = Path("/etc/ansible/ansible.cfg")
SYSTEM_INVENTORY = Path("/etc/ansible/hosts")  # DEFAULT_HOST_LIST's default in base.yml
CONFIG_SUFFIXES = (".cfg", ".ini")  # get_config_type: anything else is refused

MAX_CONFIG_BYTES = 1024 * 1024
"""A config file larger than this is refused unread: `ansible-config init --disabled -t all`,
every setting of ansible-core with its documentation, is about 53 KB."""

_WORLD_WRITABLE_DOC = (
    "https://docs.ansible.com/ansible/devel/reference_appendices/config.html"
    "#cfg-in-world-writable-dir"
)
_ASCII_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


@dataclass(frozen=True)
class AnsibleConfig:
    """The settings of one `ansible.cfg` that we honour, paths already resolved as Ansible
    resolves them (`vault_identity_list` entries are `label@source` and stay as written: Ansible
    resolves their sources against the current directory when it reads them)."""

    path: Path
    inventory: tuple[str, ...] = ()
    vault_password_file: str | None = None
    vault_identity_list: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


# --- paths as ansible.utils.path.unfrackpath(follow=False) makes them ---------------------------


def _expand_vars(text: str, environ: Mapping[str, str]) -> str:
    """`$NAME` and `${NAME}` from `environ`, unknown ones left as written (os.path.expandvars'
    rules, over a given environment). One pass: linear even for `${${${...` without a `}`."""
    if "$" not in text:
        return text
    out: list[str] = []
    i = 0
    no_brace_after = len(text) + 1  # no "}" at or after this index (found by a failed search)
    while (dollar := text.find("$", i)) != -1:
        out.append(text[i:dollar])
        start = dollar + 1
        if start < len(text) and text[start] == "{":
            close = -1 if start + 1 >= no_brace_after else text.find("}", start + 1)
            if close == -1:
                no_brace_after = min(no_brace_after, start + 1)
                out.append("$")
                i = start
                continue
            name, end = text[start + 1 : close], close + 1
        else:
            end = start
            while end < len(text) and text[end] in _ASCII_WORD:
                end += 1
            name = text[start:end]
            if not name:
                out.append("$")
                i = start
                continue
        value = environ.get(name)
        out.append(text[dollar:end] if value is None else value)
        i = end
    out.append(text[i:])
    return "".join(out)


def _home_of(environ: Mapping[str, str]) -> str:
    """`~` as os.path.expanduser reads it: $HOME, else the account's home directory."""
    home = environ.get("HOME")
    return home if home is not None else str(Path.home())


def expand_path(
    value: str,
    *,
    base: Path,
    environ: Mapping[str, str],
    home: str | os.PathLike[str] | None = None,
) -> str:
    """A path as ansible-core's `unfrackpath(value, follow=False, basedir=base)` makes it:
    `$VARS` then `~` expanded, joined to `base` when relative, normalised (symlinks kept)."""
    text = _expand_vars(value, environ)
    if text.startswith("~"):
        user_end = text.find("/")
        user = text[1:] if user_end == -1 else text[1:user_end]
        if not user:
            text = str(home if home is not None else _home_of(environ)) + (
                "" if user_end == -1 else text[user_end:]
            )
        else:
            text = os.path.expanduser(text)  # ~user: the password database, as Python does
    if not os.path.isabs(text):
        text = os.path.join(base, text)
    return os.path.normpath(text)


def _setting_path(value: str, *, base: Path, environ: Mapping[str, str], cwd: Path) -> str:
    """A `path`/`pathlist` setting as config/manager.py `resolve_path` makes it."""
    return expand_path(value.replace("{{CWD}}", str(cwd)), base=base, environ=environ)


def _unquote(text: str) -> str:
    """ansible.parsing.quoting.unquote: one pair of matching outer quotes removed."""
    quoted = len(text) > 1 and text[0] == text[-1] and text[0] in "\"'" and text[-2] != "\\"
    return text[1:-1] if quoted else text


def list_setting(value: str) -> tuple[str, ...]:
    """A `list` setting (`vault_identity_list`) as ensure_type splits it: on `,`, each item
    stripped and unquoted; empty items dropped (Ansible keeps them, to no use)."""
    items = (_unquote(item.strip()) for item in value.split(","))
    return tuple(item for item in items if item)


# --- finding the file ---------------------------------------------------------------------------


def _usable(path: Path) -> bool:
    """As find_ini_config_file: it exists (a directory counts) and we may read it."""
    try:
        return path.exists() and os.access(path, os.R_OK)
    except OSError:
        return False


def find_config(
    environ: Mapping[str, str],
    cwd: Path,
    home: Path,
    *,
    system: Path = SYSTEM_CONFIG,
) -> tuple[Path | None, tuple[str, ...]]:
    """The `ansible.cfg` Ansible would use here, or None, and the warnings to print.

    `system` is `/etc/ansible/ansible.cfg` (a parameter for tests).
    """
    warnings: list[str] = []
    candidates: list[Path] = []
    from_env: Path | None = None
    configured = environ.get("ANSIBLE_CONFIG", "")
    if configured:
        from_env = Path(expand_path(configured, base=cwd, environ=environ, home=home))
        if from_env.is_dir():
            from_env = from_env / "ansible.cfg"
        candidates.append(from_env)

    skipped_public: Path | None = None
    try:
        world_writable = bool(cwd.stat().st_mode & stat.S_IWOTH)
        local = cwd / "ansible.cfg"
        if not world_writable:
            candidates.append(local)
        elif local.exists():
            skipped_public = local
    except OSError:
        pass  # an unreadable current directory is no source, as in Ansible
    candidates += [home / ".ansible.cfg", system]

    found = next((path for path in candidates if _usable(path)), None)
    if from_env is not None and found != from_env:
        warnings.append(
            f"ANSIBLE_CONFIG={configured} names {from_env}, which does not exist or cannot be "
            f"read; Ansible ignores it too and uses {found or 'no config file'}"
        )
    if skipped_public is not None and (from_env is None or found != from_env):
        warnings.append(
            f"the current directory {cwd} is world-writable, so {skipped_public} is ignored, as "
            f"Ansible ignores it (anyone could have put it there; see {_WORLD_WRITABLE_DOC}): "
            "remove the write permission for others (chmod o-w), or name it with ANSIBLE_CONFIG"
        )
    return found, tuple(warnings)


# --- reading it: configparser's rules, linear -----------------------------------------------------


def _shown(text: str, limit: int = 60) -> str:
    """A name read from the file, bounded and printable, for a message."""
    cleaned = "".join(c if c.isprintable() else "?" for c in text[: limit + 1])
    return cleaned if len(cleaned) <= limit else cleaned[:limit] + "..."


def _inline_comment(line: str) -> int | None:
    """Where an inline `;` comment starts: a `;` first on the line or after whitespace."""
    index = line.find(";")
    while index != -1:
        if index == 0 or line[index - 1].isspace():
            return index
        index = line.find(";", index + 1)
    return None


def _parse_ini(text: str, file: str) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Sections and the `[DEFAULT]` section, as configparser.ConfigParser(strict=True,
    inline_comment_prefixes=(';',), empty_lines_in_values=True) reads `text`."""
    sections: dict[str, dict[str, list[str]]] = {}
    defaults: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    current: dict[str, list[str]] | None = None
    section = ""
    option: str | None = None
    indent_level = 0
    for number, line in enumerate(text.split("\n"), start=1):
        comment = _inline_comment(line)
        if line.strip().startswith(("#", ";")):
            comment = 0
        value = (line if comment is None else line[:comment]).strip()
        if not value:
            if comment is None and current is not None and option:
                current[option].append("")  # a blank line inside a multi-line value
            continue
        indent = len(line) - len(line.lstrip())
        if current is not None and option and indent > indent_level:
            current[option].append(value)  # a continuation line
            continue
        indent_level = indent
        close = value.rfind("]")
        if value.startswith("[") and close >= 2:  # SECTCRE: "[" .+ "]", greedy
            section, option = value[1:close], None
            if section == "DEFAULT":
                current = defaults
            elif section in sections:
                raise InputError(
                    f"section [{_shown(section)}] appears twice", file=file, line=number
                )
            else:
                current = sections[section] = {}
            continue
        if current is None:
            raise InputError(
                "text before the first [section] header",
                file=file,
                line=number,
                hint="an ansible.cfg starts with a section such as [defaults]",
            )
        delimiter = min((i for i in (value.find("="), value.find(":")) if i != -1), default=-1)
        if delimiter <= 0:
            raise InputError(
                "not a setting: expected `name = value`" if delimiter else "a setting has no name",
                file=file,
                line=number,
                hint="continuation lines must be indented; comments start with # or ;",
            )
        option = value[:delimiter].rstrip().lower()
        if (section, option) in seen:
            raise InputError(
                f"{_shown(option)!r} is set twice in section [{_shown(section)}]",
                file=file,
                line=number,
            )
        seen.add((section, option))
        current[option] = [value[delimiter + 1 :].strip()]
    joined = {
        name: {k: "\n".join(v).rstrip() for k, v in opts.items()} for name, opts in sections.items()
    }
    return joined, {k: "\n".join(v).rstrip() for k, v in defaults.items()}


def _read_text(path: Path) -> str:
    name = str(path)
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise InputError(
            f"cannot read the Ansible config: {exc.strerror or exc}", file=name
        ) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InputError(
            f"the Ansible config is over {MAX_CONFIG_BYTES // 1024} KB: is this the right file?",
            file=name,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            "the Ansible config is not UTF-8 text (Ansible refuses it too)",
            file=name,
            line=data.count(b"\n", 0, exc.start) + 1,
        ) from None
    if text.startswith("\ufeff"):
        raise InputError(
            "the Ansible config starts with a byte-order mark, which Ansible refuses",
            file=name,
            line=1,
            hint="save it as UTF-8 without BOM",
        )
    return text


def _entries(value: str, what: str, file: Path, warnings: list[str]) -> list[str]:
    entries = [item.strip() for item in value.split(",")]
    if not all(entries):
        warnings.append(
            f"{file}: an empty entry in `{what}` is ignored (Ansible would read the config's own "
            "directory in its place)"
        )
    return [item for item in entries if item]


def _warn_quotes(value: str, what: str, file: Path, warnings: list[str]) -> None:
    if any(quote in value for quote in "\"'"):
        warnings.append(
            f"{file}: `{what}` has quotes, which Ansible keeps as part of the path; "
            "remove them if they are not in the file name"
        )


def read_config(
    path: str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> AnsibleConfig:
    """Read `[defaults] inventory`, `vault_password_file` and `vault_identity_list` as Ansible
    reads them. `environ` and `cwd` (for `$VARS`, `~` and `{{CWD}}`) default to this process's."""
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    config = Path(os.path.normpath(os.path.join(cwd, path)))
    name = str(config)
    suffix = os.path.splitext(name)[1]
    if suffix not in CONFIG_SUFFIXES:
        raise InputError(
            f"an Ansible config must be named *.cfg or *.ini, not {suffix or 'without extension'}",
            file=name,
            hint="Ansible refuses other names too (ANSIBLE_CONFIG may also name a directory)",
        )
    sections, defaults = _parse_ini(_read_text(config), name)
    if "defaults" not in sections:  # configparser's get() falls back only inside a section
        return AnsibleConfig(config)
    settings = {**defaults, **sections["defaults"]}
    base = config.parent
    warnings: list[str] = []

    inventory: list[str] = []
    if (raw := settings.get("inventory")) is not None:
        _warn_quotes(raw, "inventory", config, warnings)
        for entry in _entries(raw, "inventory", config, warnings):
            inventory.append(_setting_path(entry, base=base, environ=environ, cwd=cwd))

    password_file: str | None = None
    if (raw := settings.get("vault_password_file")) is not None:
        if raw:
            _warn_quotes(raw, "vault_password_file", config, warnings)
            password_file = _setting_path(raw, base=base, environ=environ, cwd=cwd)
        else:
            warnings.append(f"{config}: `vault_password_file` is empty and ignored")

    identities: list[str] = []
    if (raw := settings.get("vault_identity_list")) is not None:
        items = _entries(raw, "vault_identity_list", config, warnings)
        identities = [entry for entry in map(_unquote, items) if entry]

    return AnsibleConfig(
        config, tuple(inventory), password_file, tuple(identities), tuple(warnings)
    )


# --- the inventory when none is given ---------------------------------------------------------


def default_sources(
    environ: Mapping[str, str],
    config: AnsibleConfig | None,
    *,
    cwd: Path | None = None,
    system_inventory: Path = SYSTEM_INVENTORY,
) -> tuple[tuple[str, ...], str]:
    """The inventory sources of a run given none, and where they came from.

    As DEFAULT_HOST_LIST: `ANSIBLE_INVENTORY` (comma-separated, relative to the current
    directory) beats the config's `inventory`; then `/etc/ansible/hosts`, only if it exists
    (Ansible would go on with an empty inventory: we say what to do instead).
    """
    cwd = Path.cwd() if cwd is None else cwd
    variable = environ.get("ANSIBLE_INVENTORY", "")
    entries = [item.strip() for item in variable.split(",") if item.strip()]
    if entries:
        paths = (_setting_path(item, base=cwd, environ=environ, cwd=cwd) for item in entries)
        return tuple(paths), "ANSIBLE_INVENTORY"
    if config is not None and config.inventory:
        return config.inventory, f"ansible.cfg at {config.path}"
    if system_inventory.exists():
        return (str(system_inventory),), f"{system_inventory} (Ansible's default)"
    if config is None:
        why = "no ansible.cfg was found"
    else:
        why = f"{config.path} sets no `inventory` under [defaults]"
    raise InputError(
        "no inventory given",
        hint=(
            "give one as the argument or with -i PATH (repeatable), set ANSIBLE_INVENTORY, or set "
            f"`inventory = PATH` under [defaults] in ansible.cfg ({why}, and {system_inventory} "
            "does not exist)"
        ),
    )
