"""A host's inventory variables rendered as Ansible renders them: lazily, in a jinja2 sandbox.

Real Ansible trees write `ansible_password: "{{ vault_exchange_password }}"` next to dozens of
variables for other playbooks that use Ansible's own filters (`| to_json`), which we do not
have. So nothing is rendered until it is read: `RenderedVars[name]` renders that variable, and
those it references, once; an unrelated variable never breaks a run. template_sandbox renders
one template as ansible-core 2.19 does; template_limits bounds what a read may cost.

What follows ansible-core 2.19 (read in its source, lib/ansible/_internal/_templating/, and
checked by running `ansible -m debug` on the same values):
* A text value is a template when it holds `{{`, `{%` or `{#`. Dict keys are not rendered; a
  `!vault` value is decrypted and not rendered either.
* Magic variables `inventory_hostname`, `inventory_hostname_short` and `group_names` (every
  group but `all`, sorted, so `ungrouped` stays: inventory/host.py `get_magic_vars`); they win
  over inventory variables of the same name.
* A variable whose own template reads an undefined variable is itself undefined where another
  template reads it: `| default(...)` and `is defined` work on it.

Errors are InputErrors naming the variable, the host and where the variable was written; they
never show a secret value.

jinja2 and the sandbox are imported when a first value is a template: an inventory of plain
values never loads them (40 ms of every audit's start, and of each forkserver's, issue 18).
"""

from __future__ import annotations

import ipaddress
import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from remediate.connect.template_limits import (
    ACTIVE_READ,
    MAX_CHAIN,
    MAX_SHOWN,
    MAX_TEMPLATE_CHARS,
    Read,
    Refused,
    VariableFrame,
    current_read,
)
from remediate.errors import InputError
from remediate.inventory.model import Host, UnsafeText, is_secret_name
from remediate.inventory.vault import VaultedValue, VaultPassword

if TYPE_CHECKING:
    from jinja2.exceptions import TemplateAssertionError

ANSIBLE_ONLY = frozenset(
    {
        "hostvars", "groups", "vars", "omit", "ansible_facts", "playbook_dir", "inventory_dir",
        "inventory_file", "ansible_play_hosts", "role_path", "query", "q", "undef", "now",
    }
)  # fmt: skip
_HIDDEN = "details hidden: the value is a secret"


class _UndefinedInput(InputError):
    """An undefined variable: where another template reads this one, it is undefined too."""


def _detail(text: Any) -> str:
    """A bounded, printable error text (an exception's, which may fail to print)."""
    try:
        text = str(text)
    except Exception:
        text = "(unprintable)"
    cleaned = "".join(c if c.isprintable() else " " for c in text[: MAX_SHOWN + 1])
    return cleaned if len(cleaned) <= MAX_SHOWN else cleaned[:MAX_SHOWN] + "..."


def _is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def _short_name(name: str) -> str:
    """`inventory_hostname_short`: up to the first dot, an IP address whole (host.py)."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name.split(".", 1)[0]
    return name


# --- the mapping ----------------------------------------------------------------------------


class RenderedVars(Mapping[str, Any]):
    """A host's variables, each rendered (and decrypted) when first read, then kept.

    Keys, length and order are the raw variables'; reading one may raise InputError (an
    undefined variable, an unsupported filter, a wrong vault password...), which names the
    variable, the host and the file:line where the variable was written.
    """

    def __init__(
        self,
        host: Host,
        *,
        vault_passwords: Sequence[VaultPassword] = (),
        environ: Mapping[str, str] | None = None,
    ) -> None:
        raw = host.vars
        self._raw: Mapping[str, Any] = raw.raw if isinstance(raw, RenderedVars) else raw
        self._host = host
        self._passwords = tuple(vault_passwords)
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self._magic: dict[str, Any] = {
            "inventory_hostname": host.name,
            "inventory_hostname_short": _short_name(host.name),
            "group_names": sorted(group for group in host.groups if group != "all"),
        }
        self._cache: dict[str, Any] = {}
        self._secret: dict[str, bool] = {}
        self._lock = threading.RLock()

    @property
    def raw(self) -> Mapping[str, Any]:
        """The variables as written, unrendered (vault values still encrypted)."""
        return self._raw

    def __getitem__(self, name: str) -> Any:
        if name in self._cache:
            return self._cache[name]
        if name not in self._raw:
            raise KeyError(name)
        return self._value(name)

    def get(self, name: str, default: Any = None) -> Any:
        """Mapping.get without its KeyError for an absent name: building a host's connection
        asks for about a hundred names, most of them unset."""
        if name in self._cache:
            return self._cache[name]
        if name not in self._raw:
            return default
        return self._value(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, name: object) -> bool:
        return name in self._raw

    def __eq__(self, other: object) -> bool:
        """Two renderings of the same variables with the same passwords and environment are
        equal without rendering anything (Host equality must not render every variable)."""
        if isinstance(other, RenderedVars):
            return (
                self._raw == other._raw
                and self._passwords == other._passwords
                and (self._environ is other._environ or self._environ == other._environ)
                and self._magic == other._magic
            )
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<RenderedVars of {self._host.name!r}: {len(self._raw)} variables>"

    def is_secret(self, name: str) -> bool:
        """Whether display code must hide `name`'s value: its name says it is a password, it
        came from a vault, or its rendering read a vaulted or secret-named variable (or a
        secret-named environment variable). True, to be safe, when it cannot be rendered."""
        if is_secret_name(name):
            return True
        if name not in self._raw:
            return False
        try:
            self[name]
        except InputError:
            return True
        return self._secret.get(name, False)

    # --- rendering ---

    def _value(self, name: str) -> Any:
        read = ACTIVE_READ.get()
        if read is not None and read.owner is self:
            return self._render(name, read)
        with self._lock:
            if name in self._cache:
                return self._cache[name]
            read = Read(self, resolve=self._resolve, environ=self._environ)
            token = ACTIVE_READ.set(read)
            try:
                return self._render(name, read)
            finally:
                ACTIVE_READ.reset(token)

    def _resolve(self, name: str) -> Any:
        """A name a template reads: a magic variable, a host variable, or missing."""
        from jinja2.utils import missing

        from remediate.connect.template_sandbox import undefined_because

        if name in self._magic:
            return self._magic[name]
        if name not in self._raw:
            return missing
        read = ACTIVE_READ.get()
        try:
            value = self[name]
        except _UndefinedInput as error:
            # Undefined until used, as in Ansible: `default` and `is defined` see through it.
            return undefined_because(name, error)
        if read is not None and (is_secret_name(name) or self._secret.get(name, False)):
            read.mark_secret()
        return value

    def _render(self, name: str, read: Read) -> Any:
        if name in self._cache:
            return self._cache[name]
        names = [frame.name for frame in read.chain]
        if name in names:
            loop = " -> ".join([*names[names.index(name) :], name])
            raise self._error(name, f"variables reference each other in a loop: {loop}")
        if len(names) >= MAX_CHAIN:
            raise self._error(name, f"variables reference variables more than {MAX_CHAIN} deep")
        frame = VariableFrame(name)
        origin = self._host.origin(name)
        if origin is not None and origin.via == "vault":  # from an encrypted file
            frame.secret = True
        read.chain.append(frame)
        try:
            value = self._render_raw(name, self._raw[name], frame)
        finally:
            read.chain.pop()
        self._cache[name] = value
        self._secret[name] = frame.secret
        return value

    def _render_raw(self, name: str, value: Any, frame: VariableFrame) -> Any:
        if isinstance(value, VaultedValue):
            frame.secret = True
            try:
                return value.decrypt(self._passwords)
            except InputError as error:
                raise InputError(
                    f"variable {name!r}: {error.message}",
                    file=error.file,
                    line=error.line,
                    host=self._host.name,
                    hint=error.hint,
                ) from None
        if isinstance(value, UnsafeText):  # `!unsafe`: never templated, as in Ansible
            return value
        if isinstance(value, str):
            return self._render_text(name, value, frame) if _is_template(value) else value
        if isinstance(value, list | tuple):
            self._charge(name, len(value))
            return [self._render_raw(name, item, frame) for item in value]
        if isinstance(value, Mapping):
            self._charge(name, len(value))
            return {key: self._render_raw(name, item, frame) for key, item in value.items()}
        return value

    def _charge(self, name: str, units: int) -> None:
        try:
            current_read().charge(units)
        except Refused as refused:
            raise self._error(name, refused.message, hint=refused.hint) from None

    def _render_text(self, name: str, source: str, frame: VariableFrame) -> Any:
        from jinja2.exceptions import (
            SecurityError,
            TemplateAssertionError,
            TemplateSyntaxError,
            UndefinedError,
        )

        from remediate.connect.template_sandbox import (
            SUPPORTED,
            UndefinedVariableError,
            render_template,
        )

        def secret() -> bool:
            return frame.secret or is_secret_name(name)

        if len(source) > MAX_TEMPLATE_CHARS:
            raise self._error(
                name,
                f"a template of {len(source):,} characters (at most {MAX_TEMPLATE_CHARS:,})",
                hint="inventory templates are short expressions",
            )
        try:
            value = render_template(source)
        except InputError:
            raise  # from a variable this one reads: it names that one
        except UndefinedVariableError as error:
            raise self._undefined(name, error.variable) from None
        except TemplateAssertionError as error:
            raise self._unsupported(name, error, secret()) from None
        except TemplateSyntaxError as error:
            where = f" (line {error.lineno} of the value)" if "\n" in source else ""
            detail = _HIDDEN if secret() else _detail(error.message or "")
            raise self._error(
                name, f"template syntax error{where}: {detail}", hint=SUPPORTED
            ) from None
        except Refused as refused:
            raise self._error(name, refused.message, hint=refused.hint) from None
        except SecurityError as error:
            detail = _HIDDEN if secret() else _detail(error)
            raise self._error(name, f"not allowed in the template sandbox: {detail}") from None
        except UndefinedError as error:
            detail = _HIDDEN if secret() else _detail(error)
            raise self._error(
                name, f"undefined in the template: {detail}", kind=_UndefinedInput
            ) from None
        except RecursionError:
            raise self._error(name, "the template recurses or nests too deeply") from None
        except Exception as error:
            detail = _HIDDEN if secret() else _detail(error)
            raise self._error(
                name, f"the template failed: {type(error).__name__}: {detail}"
            ) from None
        return value

    def _undefined(self, name: str, variable: str) -> InputError:
        from remediate.connect.template_sandbox import SUPPORTED

        if variable in ANSIBLE_ONLY:
            return self._error(
                name,
                f"{variable!r} is undefined: it is Ansible's, not available here",
                hint=SUPPORTED,
                kind=_UndefinedInput,
            )
        return self._error(
            name,
            f"{variable!r} is undefined",
            hint=f"define {variable!r} in the inventory, group_vars or host_vars (in a vault "
            f"file: give its vault password), or give a default: "
            f"{{{{ {variable} | default(...) }}}}",
            kind=_UndefinedInput,
        )

    def _unsupported(self, name: str, error: TemplateAssertionError, secret: bool) -> InputError:
        # The name of a filter or test comes from a template that parsed: not a literal
        # password, so it is shown even for a secret variable; other details are not.
        from remediate.connect.template_sandbox import SUPPORTED

        found = re.match(r"No (filter|test) named '([^']{1,100})'", error.message or "")
        if found:
            what = f"{found.group(1)} {found.group(2)!r} is not available"
        else:
            what = f"template error: {_HIDDEN if secret else _detail(error.message or '')}"
        return self._error(name, what, hint=SUPPORTED)

    def _error(
        self, name: str, message: str, *, hint: str | None = None, kind: type = InputError
    ) -> InputError:
        read = ACTIVE_READ.get()
        chain = [frame.name for frame in read.chain] if read is not None else []
        if len(chain) > 1 and chain[-1] == name:
            message += f" (reading {' -> '.join(chain)})"
        origin = self._host.origin(name)
        error: InputError = kind(
            f"variable {name!r}: {message}",
            file=origin.file if origin else None,
            line=origin.line if origin else None,
            host=self._host.name,
            hint=hint,
        )
        return error


def rendered(
    host: Host,
    *,
    vault_passwords: Sequence[VaultPassword] = (),
    environ: Mapping[str, str] | None = None,
) -> Host:
    """`host` whose `vars` render on read (see RenderedVars); `environ` for lookup('env')
    defaults to the process environment, read when a template looks a variable up."""
    return replace(host, vars=RenderedVars(host, vault_passwords=vault_passwords, environ=environ))
