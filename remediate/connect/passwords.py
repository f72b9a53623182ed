"""Where a host's password comes from: the one place that decides it.

A host's password is the first of:

1. the inventory: `ansible_password` and its aliases (`ansible_winrm_pass`,
   `ansible_ssh_pass`, `remediate_password`...), host variables before group variables;
2. the environment variable `REMEDIATE_PASSWORD_<HOST>`, where `<HOST>` is the inventory host
   name upper-cased with every character other than A-Z and 0-9 replaced by `_`
   (`exch01.corp.local` -> `REMEDIATE_PASSWORD_EXCH01_CORP_LOCAL`);
3. `REMEDIATE_PASSWORD_<GROUP>` for each group of the host, named by the same rule, the most
   specific group first as in variable precedence (`[mailbox]` inside `[exchange]`:
   `REMEDIATE_PASSWORD_MAILBOX`, then `REMEDIATE_PASSWORD_EXCHANGE`, ...,
   `REMEDIATE_PASSWORD_ALL`);
4. `REMEDIATE_PASSWORD`;
5. with `--ask-pass`, the password typed once at the prompt, for every host still without one.

An empty environment variable counts as unset.

The inventory's password wins over the environment and the prompt: `find_password` says so,
and only it; `connection_settings` takes the password chosen here.
"""

from __future__ import annotations

import getpass
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from remediate.connect.secrets import Secret
from remediate.connect.variables import host_user, inventory_password
from remediate.errors import InputError
from remediate.inventory import Host

ENV_PREFIX = "REMEDIATE_PASSWORD"


@dataclass(frozen=True)
class PasswordChoice:
    """A password and where it came from (a variable, an environment name, or the prompt)."""

    secret: Secret
    source: str


def env_name(name: str) -> str:
    """`REMEDIATE_PASSWORD_<NAME>`: upper-cased, every character but A-Z and 0-9 made `_`."""
    return f"{ENV_PREFIX}_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def env_names(host: Host) -> list[str]:
    """The environment variables looked at for `host`, in order."""
    names = [env_name(host.name)] + [env_name(group) for group in host.groups] + [ENV_PREFIX]
    return list(dict.fromkeys(names))


def password_in_inventory(host: Host) -> PasswordChoice | None:
    """The password the inventory itself sets for the host (step 1 of the order), if any."""
    found = inventory_password(host)
    if found is None:
        return None
    name, value = found
    return PasswordChoice(Secret(value, host_user(host) or None), f"{name} ({host.origin(name)})")


def find_password(host: Host, environ: Mapping[str, str] | None = None) -> PasswordChoice | None:
    """The host's password from the inventory or the environment, without prompting.

    The inventory's password wins: a password written for this host is the one meant for it.
    """
    found = password_in_inventory(host)
    if found is not None:
        return found
    user = host_user(host) or None
    environ = os.environ if environ is None else environ
    for name in env_names(host):
        if environ.get(name):
            return PasswordChoice(Secret(environ[name], user), f"environment {name}")
    return None


_prompt_lock = threading.Lock()
_prompted: Secret | None = None


def prompt_password_once(prompt: str = "Password: ") -> Secret:
    """The password typed at the terminal; asked on the first call only, then remembered."""
    global _prompted
    with _prompt_lock:
        if _prompted is None:
            try:
                _prompted = Secret(getpass.getpass(prompt))
            except (EOFError, KeyboardInterrupt):
                raise InputError(
                    "no password was typed", hint="type it, or drop --ask-pass"
                ) from None
        return _prompted


def forget_prompted_password() -> None:
    """Forget the typed password (the next `prompt_password_once` asks again)."""
    global _prompted
    with _prompt_lock:
        _prompted = None


def resolve_password(
    host: Host, *, ask_pass: bool = False, environ: Mapping[str, str] | None = None
) -> PasswordChoice | None:
    """The host's password by the documented order; None when nothing gives one."""
    found = find_password(host, environ)
    if found is not None or not ask_pass:
        return found
    return PasswordChoice(Secret(prompt_password_once(), host_user(host) or None), "prompt")
