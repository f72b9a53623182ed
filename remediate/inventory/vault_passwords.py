"""Where vault passwords come from: the options and settings `ansible-playbook` reads them from.

An administrator already tells Ansible how to open the tree's vaults (a password file in
`ansible.cfg`, a `--vault-id prod@~/bin/vault-client` script, a prompt); the same command
line and settings must open them for us. As ansible-core 2.19 does (lib/ansible/cli/__init__.py
`_play_prereqs`, `build_vault_ids`, `setup_vault_secrets`; lib/ansible/parsing/vault/__init__.py
`get_file_vault_secret`, `FileVaultSecret`, `ScriptVaultSecret`, `ClientScriptVaultSecret`,
`PromptVaultSecret`):

* Order: `ANSIBLE_VAULT_IDENTITY_LIST` (else the config's `vault_identity_list`), then each
  `--vault-id`, then each `--vault-password-file`, then `ANSIBLE_VAULT_PASSWORD_FILE` (else the
  config's `vault_password_file`), then `--ask-vault-pass`. Password files and the prompt get
  the label `default`, as does a `--vault-id` without `label@`. Decryption tries the password
  given for a vault's own id first, then the others in this order.
* A source is `prompt` (asks "Vault password (label): "; `--ask-vault-pass` asks "Vault
  password: "), else a path, relative to the current directory: a file whose content, stripped
  of ASCII whitespace, is the password (itself vault-encrypted is allowed: opened with the
  passwords read before it), or, when any execute bit is set, a script run with no shell and no
  arguments whose stdout, stripped of CR/LF only, is the password. A script whose name ends in
  `-client` before any extension is run with `--vault-id LABEL` when a label was given (exit
  code 2 means "no secret for that id"); its stderr is captured, while a plain script's goes to
  the terminal (so it can prompt), as in Ansible.

Stricter than Ansible, which only warns about a failing source when another one works: every
source given must work, or the run stops with an error naming it (a password file that cannot
be read is a mistake to fix, not a reason to try the hosts with fewer passwords). A source
given twice with the same label is read once (Ansible would run the script twice). A script
runs at most SCRIPT_TIMEOUT seconds. No password, and nothing a script prints on stdout, ever
appears in an error.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from remediate.errors import InputError
from remediate.inventory import vault
from remediate.inventory.config import AnsibleConfig, expand_path, list_setting
from remediate.inventory.vault import DEFAULT_VAULT_ID, VaultPassword

SCRIPT_TIMEOUT = 60.0
"""Seconds a password script may run (it may ask a hardware token or a password manager)."""

MAX_PASSWORD_FILE_BYTES = 1024 * 1024
"""A password file larger than this is refused unread: the wrong file, not a password."""

PROMPT = "prompt"
ASK_VAULT_PASS = "prompt_ask_vault_pass"  # Ansible's own source name for --ask-vault-pass
CLIENT_SUFFIX = "-client"
CLIENT_UNKNOWN_ID = 2  # ClientScriptVaultSecret.VAULT_ID_UNKNOWN_RC
_ASCII_SPACE = " \t\n\r\x0b\x0c"  # what bytes.strip() removes, as Ansible strips bytes
_SHOWN = 200


@dataclass(frozen=True)
class _Source:
    """One `label@source` to read, and where the user gave it (for messages)."""

    label: str | None  # as written before "@"; None (or "") means the default label
    source: str
    origin: str
    resolved: bool = False  # already a resolved path (the config's vault_password_file)
    setting: bool = False  # a `path` setting: "{{CWD}}" is replaced (config/manager.py)

    @property
    def vault_id(self) -> str:
        return self.label or DEFAULT_VAULT_ID


def _split(slug: str, origin: str) -> _Source:
    """`label@source`, split at the first `@` (CLI.split_vault_id); no `@`: all source."""
    label, at, source = slug.partition("@")
    return _Source(label, source, origin) if at else _Source(None, slug, origin)


def _sources(
    password_files: Sequence[str],
    vault_ids: Sequence[str],
    ask: bool,
    environ: Mapping[str, str],
    config: AnsibleConfig | None,
) -> list[_Source]:
    """Every source in the order ansible-core builds its vault ids."""
    sources: list[_Source] = []
    identities = list_setting(environ.get("ANSIBLE_VAULT_IDENTITY_LIST", ""))
    if identities:
        sources += [_split(item, "ANSIBLE_VAULT_IDENTITY_LIST") for item in identities]
    elif config is not None:
        origin = f"vault_identity_list in {config.path}"
        sources += [_split(item, origin) for item in config.vault_identity_list]
    sources += [_split(slug, "--vault-id") for slug in vault_ids]
    sources += [_Source(DEFAULT_VAULT_ID, path, "--vault-password-file") for path in password_files]
    if environ.get("ANSIBLE_VAULT_PASSWORD_FILE", ""):
        source = environ["ANSIBLE_VAULT_PASSWORD_FILE"]
        sources.append(
            _Source(DEFAULT_VAULT_ID, source, "ANSIBLE_VAULT_PASSWORD_FILE", setting=True)
        )
    elif config is not None and config.vault_password_file:
        origin = f"vault_password_file in {config.path}"
        sources.append(_Source(DEFAULT_VAULT_ID, config.vault_password_file, origin, resolved=True))
    if ask:
        sources.append(_Source(DEFAULT_VAULT_ID, ASK_VAULT_PASS, "--ask-vault-pass"))
    return sources


def _shown(text: str) -> str:
    cleaned = "".join(c if c.isprintable() else "?" for c in text[: _SHOWN + 1])
    return cleaned if len(cleaned) <= _SHOWN else cleaned[:_SHOWN] + "..."


def _quote_hint(path: str) -> str | None:
    if any(quote in path for quote in "\"'"):
        return "quotes are part of the path for Ansible; remove them if the name has none"
    return None


def _ask(source: _Source, prompt: Callable[[str], str]) -> str:
    """PromptVaultSecret: one question; the answer stripped of ASCII whitespace."""
    if source.source == ASK_VAULT_PASS:
        question = "Vault password: "  # the old form, which tools driving Ansible wait for
    else:
        question = f"Vault password ({source.vault_id}): "
    try:
        typed = prompt(question)
    except EOFError:
        raise InputError(
            f"no vault password typed for vault id {source.vault_id!r} (end of input)",
            hint=f"asked because of {source.origin}; without a terminal, use a password file",
        ) from None
    secret = typed.strip(_ASCII_SPACE)
    if not secret:
        raise InputError(
            f"the vault password typed for vault id {source.vault_id!r} is empty",
            hint="ansible-vault refuses empty passwords too",
        )
    return secret


def _last_line(stderr: bytes | None) -> str:
    if not stderr:
        return ""
    tail = stderr[-4096:].decode("utf-8", "replace")
    lines = [line.strip() for line in tail.splitlines()]
    last = next((line for line in reversed(lines) if line), "")
    return _shown(last)


def _run_script(path: str, source: _Source, environ: Mapping[str, str]) -> str:
    """ScriptVaultSecret / ClientScriptVaultSecret: its stdout, stripped of CR/LF."""
    stem = os.path.splitext(source.source)[0]  # script_is_client reads the name as given
    client = stem.endswith(CLIENT_SUFFIX)
    command = [path]
    if client and source.label:
        command += ["--vault-id", source.label]
    kind = "vault password client script" if client else "vault password script"
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if client else None,
            env=dict(environ),
        )
    except OSError as exc:
        raise InputError(
            f"cannot run the {kind} ({source.origin}): {exc.strerror or exc}",
            file=path,
            hint="it has an execute bit, so it is run; if it is a password file, chmod -x it",
        ) from None
    with process:
        try:
            stdout, stderr = process.communicate(timeout=SCRIPT_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            with suppress(subprocess.TimeoutExpired):
                process.communicate(timeout=1)  # a child of the script may hold the pipe
            raise InputError(
                f"the {kind} ({source.origin}) did not finish within {SCRIPT_TIMEOUT:g} s",
                file=path,
            ) from None
    code = process.returncode
    if code != 0:
        said = _last_line(stderr)
        if client and code == CLIENT_UNKNOWN_ID:
            message = f"the {kind} has no secret for vault id {source.vault_id!r}"
        elif code < 0:
            message = f"the {kind} was killed by signal {-code}"
        else:
            message = f"the {kind} exited with code {code}"
        if said:
            message += f": {said}"
        elif not client:
            message += " (what it said, if anything, is above)"
        raise InputError(message, file=path, hint=f"given by {source.origin}")
    secret = stdout.strip(b"\r\n")
    if not secret:
        raise InputError(f"the {kind} ({source.origin}) printed no password", file=path)
    return secret.decode("utf-8", "surrogateescape")


def _read_file(path: str, source: _Source, earlier: list[VaultPassword]) -> str:
    """FileVaultSecret: the content stripped of ASCII whitespace, decrypted if it is a vault."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_PASSWORD_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(
            f"cannot read the vault password file ({source.origin}): {exc.strerror or exc}",
            file=path,
        ) from None
    if len(data) > MAX_PASSWORD_FILE_BYTES:
        raise InputError(
            f"the vault password file ({source.origin}) is over "
            f"{MAX_PASSWORD_FILE_BYTES // 1024} KB: is this the right file?",
            file=path,
        )
    data = data.strip()
    if vault.is_vault(data):
        try:
            data = vault.decrypt(data, earlier, file=path)
        except InputError as exc:
            raise InputError(
                f"the vault password file ({source.origin}) is itself vault-encrypted, and "
                f"{exc.message}",
                file=path,
                hint="give the password that opens it before it (e.g. --vault-id pw@prompt)",
            ) from None
        data = data.strip(b"\r\n")
    if not data:
        raise InputError(
            f"the vault password file ({source.origin}) is empty",
            file=path,
            hint="ansible-vault refuses empty passwords too",
        )
    return data.decode("utf-8", "surrogateescape")


def _read_source(
    source: _Source,
    path: str,
    environ: Mapping[str, str],
    earlier: list[VaultPassword],
) -> str:
    """get_file_vault_secret: a script when any execute bit is set, else a password file."""
    if not source.source:
        raise InputError(
            f"{source.origin} gives vault id {source.vault_id!r} no source",
            hint="write label@FILE, label@SCRIPT or label@prompt",
        )
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(
            f"vault password file not found ({source.origin})",
            file=path,
            hint=_quote_hint(path),
        ) from None
    except OSError as exc:
        raise InputError(
            f"cannot read the vault password file ({source.origin}): {exc.strerror or exc}",
            file=path,
        ) from None
    if stat.S_ISDIR(mode):
        raise InputError(f"the vault password file ({source.origin}) is a directory", file=path)
    if mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH):  # module_utils is_executable
        return _run_script(path, source, environ)
    return _read_file(path, source, earlier)


def collect_vault_passwords(
    *,
    password_files: Sequence[str],
    vault_ids: Sequence[str],
    ask: bool,
    environ: Mapping[str, str],
    config: AnsibleConfig | None,
    prompt: Callable[[str], str],
    cwd: Path | None = None,
) -> list[VaultPassword]:
    """The vault passwords of a run, in the order ansible-core would try them.

    `password_files` are the `--vault-password-file` options, `vault_ids` the `--vault-id
    label@source` options, `ask` is `--ask-vault-pass`; `prompt(question)` reads a password
    without echo (getpass) and may raise EOFError. Relative paths are relative to `cwd`
    (default: the current directory). Raises InputError naming the source that fails.
    """
    cwd = Path.cwd() if cwd is None else cwd
    passwords: list[VaultPassword] = []
    done: set[tuple[str | None, str]] = set()
    for source in _sources(password_files, vault_ids, ask, environ, config):
        if source.source in (PROMPT, ASK_VAULT_PASS):
            key: tuple[str | None, str] = (source.vault_id, source.source)
            if key in done:
                continue
            secret = _ask(source, prompt)
        else:
            path = source.source
            if source.setting:
                path = path.replace("{{CWD}}", str(cwd))
            if not source.resolved and path:
                path = expand_path(path, base=cwd, environ=environ)
            key = (source.label or "", path)  # a client script is given the label as written
            if key in done:
                continue
            secret = _read_source(source, path, environ, passwords)
        done.add(key)
        password = VaultPassword(secret, source.vault_id)
        if password not in passwords:
            passwords.append(password)
    return passwords
