"""Secrets kept out of every output: a password shows as `***` until it is sent.

A password travels as a `Secret`: printing, formatting or logging it shows `***`; only
`.reveal()` gives the value. `redact()` removes secrets from any text before it is shown,
including their URL-encoded and JSON-escaped forms and the base64 of `user:password` that an
HTTP Basic header carries.
"""

from __future__ import annotations

import base64
import hmac
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

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
