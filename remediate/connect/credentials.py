"""Where a host's password comes from, and how secrets are kept out of every output.

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

A password travels as a `Secret`: printing, formatting or logging it shows `***`; only
`.reveal()` gives the value. `redact()` removes secrets from any text before it is shown,
including their URL-encoded and JSON-escaped forms and the base64 of `user:password` that an
HTTP Basic header carries.
"""

from __future__ import annotations

import base64
import getpass
import hmac
import json
import os
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from remediate.errors import InputError
from remediate.inventory.ini import Host, host_user, inventory_password

ENV_PREFIX = "REMEDIATE_PASSWORD"
MASK = "***"


class Secret:
    """A string that shows as `***` everywhere; `.reveal()` reads it.

    `user`, when known, is the account the secret belongs to, so that `redact()` also hides
    the base64 of `user:password`.
    """

    __slots__ = ("_value", "user")

    def __init__(self, value: str | Secret, user: str | None = None) -> None:
        if isinstance(value, Secret):
            user = user if user is not None else value.user
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("a Secret holds a str")
        self._value = value
        self.user = user

    def reveal(self) -> str:
        """The secret value itself: only for the code that has to send it."""
        return self._value

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(MASK, spec)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self


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


def find_password(host: Host, environ: Mapping[str, str] | None = None) -> PasswordChoice | None:
    """The host's password from the inventory or the environment, without prompting."""
    user = host_user(host) or None
    found = inventory_password(host)
    if found is not None:
        name, value = found
        return PasswordChoice(Secret(value, user), f"{name} ({host.origin(name)})")
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


def _encodings(value: str) -> set[str]:
    """The forms a value takes in URLs and JSON."""
    forms = {value, json.dumps(value)[1:-1], quote_plus(value)}
    for safe in ("", "/"):
        encoded = quote(value, safe=safe)
        forms |= {encoded, re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), encoded)}
    return forms


def _base64_forms(text: str) -> set[str]:
    data = text.encode("utf-8")
    forms = set()
    for encoded in (base64.b64encode(data), base64.urlsafe_b64encode(data)):
        forms |= {encoded.decode("ascii"), encoded.decode("ascii").rstrip("=")}
    return forms


def secret_forms(secret: Secret | str, users: Iterable[str] = ()) -> set[str]:
    """Every text form of a secret that `redact` hides (empty secrets have none)."""
    value = secret.reveal() if isinstance(secret, Secret) else secret
    if not value:
        return set()
    accounts = set(users)
    if isinstance(secret, Secret) and secret.user:
        accounts.add(secret.user)
    forms = _encodings(value) | _base64_forms(value)
    for account in accounts:
        forms |= _base64_forms(f"{account}:{value}")
    return {form for form in forms if form}


def redact(text: str, secrets: Iterable[Secret | str], users: Iterable[str] = ()) -> str:
    """`text` with every form of every secret replaced by `***`."""
    accounts = tuple(users)
    forms: set[str] = set()
    for secret in secrets:
        forms |= secret_forms(secret, accounts)
    if not forms:
        return text
    pattern = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
    return re.sub(pattern, MASK, text)
