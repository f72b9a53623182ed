"""A host's inventory variables rendered as Ansible renders them: lazily, in a jinja2 sandbox.

Real Ansible trees write `ansible_password: "{{ vault_exchange_password }}"` next to dozens of
variables for other playbooks that use Ansible's own filters (`| to_json`), which we do not
have. So nothing is rendered until it is read: `RenderedVars[name]` renders that variable, and
those it references, once; an unrelated variable never breaks a run.

What follows ansible-core 2.19 (read in its source, lib/ansible/_internal/_templating/, and
checked by running `ansible -m debug` on the same values):
* A text value is a template when it holds `{{`, `{%` or `{#`. Dict keys are not rendered; a
  `!vault` value is decrypted and not rendered either.
* Native types (AnsibleEnvironment.concat in _jinja_bits.py): of the template's output nodes,
  `None`s are dropped; no node gives None, one node is the value as it is (`"{{ 5986 }}"` ->
  5986, `"{{ flag }}"` -> a bool, `"{{ '5' }}"` -> '5': no `literal_eval` as jinja2's
  NativeEnvironment does), several are joined as text. Tuples, iterators and dict views become
  lists; other objects are refused ("Type 'range' is unsupported for variable storage").
* `trim_blocks`; a text result keeps the template's trailing newlines (_engine.py,
  `_post_render_mutation`), so `"{{ 5986 }}\\n"` is still 5986.
* Magic variables `inventory_hostname`, `inventory_hostname_short` and `group_names` (every
  group but `all`, sorted, so `ungrouped` stays: inventory/host.py `get_magic_vars`); they win
  over inventory variables of the same name.
* `lookup('env', NAME, ...)` (plugins/lookup/env.py): the first word of each term, '' when unset
  unless `default=` is given, several values joined with ',' (`_invoke_lookup` in
  _jinja_plugins.py), a list with `wantlist=True`.
* A variable whose own template reads an undefined variable is itself undefined where another
  template reads it: `| default(...)` and `is defined` work on it.

Ansible has no limits; jinja2's sandbox only caps `range` at 100,000 items. Here every value a
template makes is at most MAX_VALUE_CHARS of text, checked before `*`, `**`, `+`, `%`, `~`,
padding, replacing and joining allocate it (`'{{ "x" * 10**9 }}'` is refused, not computed),
and one read runs at most MAX_STEPS loop iterations, calls, filters and operators and MAX_WORK
characters of guarded work. Errors are InputErrors naming the variable, the host and where the
variable was written; they never show a secret value.
"""

from __future__ import annotations

import datetime
import functools
import ipaddress
import operator
import os
import re
import string
import threading
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, Sequence, ValuesView
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from jinja2 import Template, nodes
from jinja2.compiler import Frame
from jinja2.exceptions import (
    SecurityError,
    TemplateAssertionError,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.nativetypes import NativeCodeGenerator
from jinja2.runtime import Context, LoopContext, StrictUndefined, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import missing

from remediate.errors import InputError
from remediate.inventory.model import Host, UnsafeText, is_secret_name
from remediate.inventory.vault import VaultedValue, VaultPassword

MAX_VALUE_CHARS = 1_000_000
"""The largest value (about, in characters as text) a template may make."""
MAX_STEPS = 20_000
"""Loop iterations, calls, filters and guarded operators in one read."""
MAX_WORK = 10_000_000
"""Characters that guarded operations may make or scan in one read."""
MAX_INT_BITS = 65_536
"""The largest number a template may compute (about 20,000 digits)."""
MAX_CHAIN = 25
"""How deep variables may reference variables (each level costs ~10 Python frames)."""
MAX_TEMPLATE_CHARS = 65_536
"""The longest template rendered: jinja2 compiles about 40 KB a second (linear, but slow)."""
MAX_TOJSON_INDENT = 16
MAX_CACHED_SOURCE = 4096
"""Longer templates are compiled each time rather than kept in the shared cache."""

SUPPORTED = (
    "inventory templates have jinja2's built-in filters and tests, lookup('env', NAME), "
    "inventory_hostname, inventory_hostname_short and group_names; Ansible's own filters, "
    "lookups and variables (to_json, regex_replace, query, hostvars...) are not available"
)
ANSIBLE_ONLY = frozenset(
    {
        "hostvars", "groups", "vars", "omit", "ansible_facts", "playbook_dir", "inventory_dir",
        "inventory_file", "ansible_play_hosts", "role_path", "query", "q", "undef", "now",
    }
)  # fmt: skip
_SHOWN = 200
_HIDDEN = "details hidden: the value is a secret"
_FLAG_CHARS = frozenset("#0- +.*0123456789hlL")


class _Refused(Exception):
    """A template did something not allowed or not supported; the text is safe to show."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class _UndefinedInput(InputError):
    """An undefined variable: where another template reads this one, it is undefined too."""


class _UndefinedVariable(UndefinedError):
    """jinja2's error for an undefined top-level name, with the name."""

    def __init__(self, variable: str, message: str | None = None) -> None:
        super().__init__(message)
        self.variable = variable


def _same_error(error: InputError, _message: str | None = None) -> InputError:
    """The error an undefined value raises when used: the one that made it undefined."""
    return error


def _too_big() -> _Refused:
    return _Refused(
        f"the rendered value would exceed {MAX_VALUE_CHARS:,} characters",
        hint="inventory values are short; build large data elsewhere",
    )


# --- what one read costs ------------------------------------------------------------------


@dataclass
class _Frame:
    """A variable being rendered; `secret` once its rendering read a secret."""

    name: str
    secret: bool = False


class _Read:
    """One read of a variable from outside (with the ones it references): its budget and the
    chain of variables being rendered, innermost last."""

    def __init__(self, owner: RenderedVars | None) -> None:
        self.owner = owner
        self.chain: list[_Frame] = []
        self.steps = 0
        self.work = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise _Refused(
                f"the template runs more than {MAX_STEPS:,} steps (loop iterations, calls, "
                "filters)",
                hint="inventory templates should be short expressions",
            )

    def charge(self, units: int) -> None:
        self.work += units
        if self.work > MAX_WORK:
            raise _Refused(
                f"the template makes or scans more than {MAX_WORK:,} characters",
                hint="inventory templates should be short expressions",
            )

    def mark_secret(self) -> None:
        if self.chain:
            self.chain[-1].secret = True


_CURRENT: ContextVar[_Read | None] = ContextVar("remediate_template_read", default=None)


def _read() -> _Read:
    """The read under way (a throwaway budget outside one, e.g. when jinja2 folds constants)."""
    return _CURRENT.get() or _Read(None)


def _measure(value: Any, limit: int = MAX_VALUE_CHARS) -> int:
    """About how many characters `value` takes as text, shared parts counted each time they
    appear (as printing repeats them). Stops once over `limit`, so it costs at most `limit`."""
    total = 0
    pending = [value]
    pop, extend = pending.pop, pending.extend
    while pending:
        item = pop()
        kind = type(item)
        if kind is str or kind is bytes:
            total += len(item) + 2
        elif kind is list or kind is tuple or isinstance(item, list | tuple | set | frozenset):
            total += len(item) + 2
            if total > limit:
                return total
            extend(item)
        elif isinstance(item, dict):
            total += 2 * len(item) + 2
            if total > limit:
                return total
            extend(item.keys())
            extend(item.values())
        elif kind is int:
            total += item.bit_length() // 3 + 1
        elif isinstance(item, str | bytes):
            total += len(item) + 2
        else:
            total += 1
        if total > limit:
            return total
    return total


def _size(value: Any, limit: int = MAX_VALUE_CHARS) -> int:
    """`_measure`, its cost charged to the read."""
    size = _measure(value, limit)
    _read().charge(size)
    return size


def _checked(value: Any) -> Any:
    """`value` if it is within MAX_VALUE_CHARS."""
    if _size(value) > MAX_VALUE_CHARS:
        raise _too_big()
    return value


def _refuse_over(estimate: int) -> None:
    if estimate > MAX_VALUE_CHARS:
        raise _too_big()


def _number(value: Any) -> int:
    """The size an int argument asks for (0 for other types: Python rejects those itself)."""
    return abs(value) if isinstance(value, int) else 0


def _shallow(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple | dict | set) else 1


def _bounded_list(value: Any) -> Any:
    """An iterable as a list (text and lists as they are), refused past MAX_VALUE_CHARS items."""
    if isinstance(value, str | bytes | list | tuple):
        return value
    items = []
    for item in value:
        items.append(item)
        if len(items) > MAX_VALUE_CHARS:
            raise _too_big()
    _read().charge(len(items))
    return items


# --- estimates made before a value is allocated --------------------------------------------


def _check_binop(operator: str, left: Any, right: Any) -> None:
    numbers = isinstance(left, int) and isinstance(right, int)
    if operator == "**" and numbers and right > 0 and abs(left) > 1:
        if abs(left).bit_length() * right > MAX_INT_BITS:
            raise _Refused(f"the template computes a number of more than {MAX_INT_BITS:,} bits")
    elif operator == "*" and numbers:
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise _Refused(f"the template computes a number of more than {MAX_INT_BITS:,} bits")
    elif operator == "*":
        sequence, count = (left, right) if isinstance(right, int) else (right, left)
        if isinstance(sequence, str | bytes) and isinstance(count, int):
            _refuse_over(len(sequence) * max(count, 0))
        elif isinstance(sequence, list | tuple) and isinstance(count, int):
            _refuse_over(_size(sequence) * max(count, 0))
    elif operator == "+" and not numbers:
        _refuse_over(_size(left) + _size(right))
    elif operator == "%" and isinstance(left, str | bytes):
        _check_printf(left, right)


def _widths(spec: str) -> int:
    """The sum of the numbers written in a format spec (widths, precisions)."""
    total = 0
    for run in re.findall(r"[0-9]+", spec):
        if len(run) > 7:
            raise _too_big()
        total += int(run)
    return total


def _check_printf(fmt: str | bytes, args: Any) -> None:
    """`fmt % args` (and jinja2's `format` filter): widths, stars and repeated fields."""
    text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt
    _read().charge(len(text))
    specs = widths = 0
    start = text.find("%")
    while start != -1:
        end = start + 1
        if end < len(text) and text[end] == "(":  # %(name)s
            close = text.find(")", end)
            end = len(text) if close == -1 else close + 1
        begin = end
        while end < len(text) and text[end] in _FLAG_CHARS:
            end += 1
        widths += _widths(text[begin:end])
        specs += 1
        start = text.find("%", max(end, start + 1))
    stars = sum(_number(a) for a in args) if isinstance(args, tuple) else _number(args)
    _refuse_over(len(text) + widths + stars + specs * _size(args))


def _check_str_format(fmt: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    """`str.format` / `format_map`: widths in the specs, and fields that repeat arguments."""
    _read().charge(len(fmt))
    fields = widths = 0
    for _literal, field_name, spec, _conversion in string.Formatter().parse(fmt):
        if field_name is not None:
            fields += 1
            widths += _widths(spec or "")
    numbers = sum(_number(a) for a in args) + sum(_number(a) for a in kwargs.values())
    _refuse_over(len(fmt) + widths + numbers + fields * (_size(args) + _size(kwargs)))


def _check_replace(text: Any, old: Any, new: Any, count: Any = None) -> Any:
    if not isinstance(text, str | bytes):
        text = str(_checked(text))
    if isinstance(old, type(text)) and isinstance(new, type(text)):
        hits = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        _refuse_over(len(text) + hits * len(new))
    return text


def _check_method(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Methods of text and numbers whose result can be far larger than their inputs."""
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", "")
    if isinstance(owner, str | bytes):
        first = args[0] if args else None
        if name in ("center", "ljust", "rjust", "zfill"):
            _refuse_over(_number(kwargs.get("width", first)))
        elif name == "expandtabs":
            tab = kwargs.get("tabsize", 8 if first is None else first)
            tabs = owner.count("\t" if isinstance(owner, str) else b"\t")
            _refuse_over(len(owner) + tabs * _number(tab))
        elif name == "replace" and len(args) >= 2:
            _check_replace(owner, *args[:3], **kwargs)
        elif name == "join" and args:
            items = _bounded_list(first)
            _refuse_over(_size(items) + len(owner) * len(items))
            return (items, *args[1:])
        elif name == "translate" and isinstance(first, dict):
            longest = max((_shallow(v) for v in first.values()), default=1)
            _refuse_over(len(owner) * longest)
    elif isinstance(owner, int) and name == "to_bytes":
        _refuse_over(_number(kwargs.get("length", args[0] if args else 1)))
    return args


# Filters whose output can be far larger than their input, checked before they run. Each takes
# the filter's own arguments (as jinja2 names them) and returns the value to filter.


def _filter_center(value: Any, width: Any = 80) -> Any:
    _refuse_over(_size(value) + _number(width))
    return value


def _filter_indent(value: Any, width: Any = 4, first: bool = False, blank: bool = False) -> Any:
    text = value if isinstance(value, str) else str(_checked(value))
    step = len(width) if isinstance(width, str) else _number(width)
    _refuse_over(len(text) + (text.count("\n") + 1) * step)
    return text


def _filter_wordwrap(value: Any, width: Any = 79, *args: Any, **kwargs: Any) -> Any:
    text = value if isinstance(value, str) else str(_checked(value))
    wrapstring = kwargs.get("wrapstring", args[1] if len(args) > 1 else None)
    _refuse_over(len(text) + (len(text) + 1) * _shallow(wrapstring or "\n"))
    return text


def _filter_replace(value: Any, old: Any, new: Any, count: Any = None) -> Any:
    return _check_replace(value, str(old), str(new), count)


def _filter_format(value: Any, *args: Any, **kwargs: Any) -> Any:
    if isinstance(value, str):
        _check_printf(value, kwargs or args)
    return value


def _filter_join(value: Any, d: Any = "", attribute: Any = None) -> Any:
    items = _bounded_list(value)
    _refuse_over(_size(items) + _size(d) * len(items))
    return items


def _filter_sum(iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
    items = _bounded_list(iterable)
    if not isinstance(start, int | float):  # adding lists one by one is quadratic
        _read().charge(len(items) * _size(items))
    return items


def _filter_tojson(value: Any, indent: Any = None) -> Any:
    if _shallow(indent) > MAX_TOJSON_INDENT or _number(indent) > MAX_TOJSON_INDENT:
        raise _Refused(f"tojson's indent is at most {MAX_TOJSON_INDENT}")
    return value


def _filter_repeat_count(value: Any, count: Any = 0, *args: Any, **kwargs: Any) -> Any:
    _refuse_over(_number(count))
    return value


def _filter_urlize(value: Any, *args: Any, **kwargs: Any) -> Any:
    text = value if isinstance(value, str) else str(_checked(value))
    extra = sum(_size(v) for v in (*args, *kwargs.values()))
    _refuse_over(len(text) * (3 + extra))
    return text


_FILTER_CHECKS: dict[str, Any] = {
    "center": _filter_center,
    "indent": _filter_indent,
    "wordwrap": _filter_wordwrap,
    "replace": _filter_replace,
    "format": _filter_format,
    "join": _filter_join,
    "sum": _filter_sum,
    "tojson": _filter_tojson,
    "batch": _filter_repeat_count,
    "slice": _filter_repeat_count,
    "urlize": _filter_urlize,
}


def _guarded_filter(name: str, function: Any) -> Any:
    """`function` counted as a step, checked before it runs when it can grow, its result
    bounded. jinja2's `pass_context` & co. marks are kept (`wraps` copies `__dict__`)."""
    skip = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0
    check = _FILTER_CHECKS.get(name)

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        read = _read()
        read.step()
        if len(args) > skip:
            read.charge(_shallow(args[skip]))
            if check is not None:
                value = check(*args[skip:], **kwargs)
                args = (*args[:skip], value, *args[skip + 1 :])
        return _checked(function(*args, **kwargs))

    return guarded


def _guarded_test(function: Any) -> Any:
    """A test (`is in`, `is eq`...) counted as a step, its arguments' sizes charged."""
    skip = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _read().step()
        for argument in (*args[skip:], *kwargs.values()):
            _size(argument)
        return function(*args, **kwargs)

    return guarded


_COMPARISONS: dict[str, Any] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gteq": operator.ge,
    "lt": operator.lt,
    "lteq": operator.le,
    "in": lambda left, right: left in right,
    "notin": lambda left, right: left not in right,
}


# --- what a template gives ----------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A template's result as a variable holds it (Ansible refuses other types too)."""
    if isinstance(value, Undefined):
        str(value)  # a StrictUndefined raises its error here
    if value is None or isinstance(value, bool | int | float | datetime.date):
        return value  # dates as YAML reads them
    if isinstance(value, str):
        return str(value)  # Markup and other str subclasses as plain text
    read = _read()
    if isinstance(value, dict):
        read.charge(len(value))
        return {_plain_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | KeysView | ValuesView | ItemsView):
        read.charge(len(value))
        return [_plain(item) for item in value]
    if isinstance(value, Iterator):
        return [_plain(item) for item in _bounded_list(value)]
    raise _Refused(
        f"the template gives a {type(value).__name__!r} object, not a value (text, number, "
        "bool, list, dict or none)"
    )


def _plain_key(key: Any) -> Any:
    if isinstance(key, str):
        return str(key)
    if key is None or isinstance(key, bool | int | float):
        return key
    raise _Refused(f"the template gives a dict key of type {type(key).__name__!r}")


def _finish(output: Iterable[Any]) -> Any:
    """The output nodes as one value, as ansible-core 2.19's concat (see the module's note)."""
    read = _read()
    kept = []
    left = MAX_VALUE_CHARS
    for node in output:
        if node is None:
            continue
        read.step()
        if _size(node, left) > left:  # before walking it: shared parts may nest deep
            raise _too_big()
        value = _plain(node)
        left -= _size(value, left)
        if left < 0:
            raise _too_big()
        kept.append(value)
    if not kept:
        return None
    if len(kept) == 1:
        return kept[0]
    text = "".join(v if isinstance(v, str) else str(v) for v in kept)
    if len(text) > MAX_VALUE_CHARS:
        raise _too_big()
    return text


# --- the jinja2 environment --------------------------------------------------------------


def _tuples_as_lists(value: Any) -> Any:
    """A constant folded at compile time, as `_plain` makes values at run time."""
    if isinstance(value, list | tuple):
        return [_tuples_as_lists(item) for item in value]
    if isinstance(value, dict):
        return {key: _tuples_as_lists(item) for key, item in value.items()}
    return value


class _CodeGenerator(NativeCodeGenerator):
    """jinja2's native code generator made to behave as ansible-core 2.19's: constant output
    keeps its type (`"{{ 5986 }}"` is folded at compile time), `None` output is dropped; `~`
    and `for` go through the environment's guards."""

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        items = [_tuples_as_lists(item) for item in group if item is not None]
        if not items:
            return "None"
        if len(items) == 1:
            return repr(items[0])
        return repr("".join(map(str, items)))

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.concat_text((")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")

    def visit_Compare(self, node: nodes.Compare, frame: Frame) -> None:
        self.write("environment.compare(")
        self.visit(node.expr, frame)
        for operand in node.ops:
            self.write(f", {operand.op!r}, ")
            self.visit(operand.expr, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self.write("environment.made(")
        super().visit_List(node, frame)
        self.write(")")

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self.write("environment.made(")
        super().visit_Dict(node, frame)
        self.write(")")

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx != "load":  # `{% for a, b in ... %}` assigns to a tuple
            super().visit_Tuple(node, frame)
            return
        self.write("environment.made(")
        super().visit_Tuple(node, frame)
        self.write(")")

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        counter = nodes.EnvironmentAttribute("counted")
        if not (isinstance(node.iter, nodes.Call) and node.iter.node == counter):
            node.iter = nodes.Call(counter, [node.iter], [], None, None, lineno=node.lineno)
        super().visit_For(node, frame)


class _Undefined(StrictUndefined):
    """StrictUndefined whose error for an undefined name carries the name."""

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: Any = UndefinedError,
    ) -> None:
        if exc is UndefinedError and obj is missing and hint is None and name is not None:
            exc = functools.partial(_UndefinedVariable, name)
        super().__init__(hint, obj, name, exc)


class _HostContext(Context):
    """Names resolve to the host's variables, rendered on first use (jinja2's documented way:
    override `resolve_or_missing`), before jinja2's globals."""

    def resolve_or_missing(self, key: str) -> Any:
        if key in self.vars:
            return self.vars[key]
        read = _CURRENT.get()
        if read is not None and read.owner is not None:
            found = read.owner._resolve(key)
            if found is not missing:
                return found
        return self.parent.get(key, missing)


class _Sandbox(ImmutableSandboxedEnvironment):
    """jinja2's immutable sandbox with Ansible's native types and our size guards."""

    code_generator_class = _CodeGenerator
    context_class = _HostContext
    concat = staticmethod(_finish)  # macro and `{% set %}` block bodies, typed as output
    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def __init__(self) -> None:
        super().__init__(undefined=_Undefined, trim_blocks=True, autoescape=False)
        self.globals.pop("lipsum", None)  # lipsum(n=10**6) writes gigabytes
        self.globals["lookup"] = _lookup
        self.filters = {name: _guarded_filter(name, f) for name, f in self.filters.items()}
        self.tests = {name: _guarded_test(f) for name, f in self.tests.items()}

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _read().step()
        _check_binop(operator, left, right)
        return _checked(self.binop_table[operator](left, right))

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _read().step()
        if isinstance(obj, LoopContext) and args:  # `loop(children)` in a recursive loop
            args = (self.counted(args[0]), *args[1:])
        args = _check_method(obj, args, kwargs)
        return _checked(super().call(context, obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__

        is_map = value.__name__ == "format_map"

        @functools.wraps(wrapped)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not is_map:
                _check_str_format(fmt, args, kwargs)
            elif args and isinstance(args[0], Mapping):
                _check_str_format(fmt, (), args[0])
            return _checked(wrapped(*args, **kwargs))

        return guarded

    def getitem(self, obj: Any, argument: Any) -> Any:
        value = super().getitem(obj, argument)
        if isinstance(argument, slice):  # a slice is a copy
            _read().charge(_shallow(value))
        return value

    @staticmethod
    def made(value: Any) -> Any:
        """A list, tuple or dict written in the template: shared parts could nest into a value
        that prints as gigabytes (`[a, a]` ten times over), so it is measured."""
        return _checked(value)

    @staticmethod
    def compare(left: Any, *operands: Any) -> Any:
        """`a == b`, `a in b`...: a step, and the operands' sizes charged (comparing is linear)."""
        _read().step()
        _size(left)
        result: Any = True
        for index in range(0, len(operands), 2):
            right = operands[index + 1]
            _size(right)
            result = _COMPARISONS[operands[index]](left, right)
            if not result:
                return result
            left = right
        return result

    @staticmethod
    def counted(iterable: Any) -> Iterator[Any]:
        read = _read()
        for item in iterable:
            read.step()
            yield item

    @staticmethod
    def concat_text(parts: tuple[Any, ...]) -> str:
        """`a ~ b`: each part as text, refused before the joined text would be too long."""
        left = MAX_VALUE_CHARS
        texts = []
        for part in parts:
            left -= len(part) if isinstance(part, str) else _size(part, left)
            if left < 0:
                raise _too_big()
            texts.append(str(part))
        return "".join(texts)


@functools.cache
def _environment() -> _Sandbox:
    return _Sandbox()


@functools.lru_cache(maxsize=512)
def _compile_cached(source: str) -> Template:
    return _environment().from_string(source)


def _compile(source: str) -> Template:
    """Templates are compiled once for every host that shares them (group_vars)."""
    if len(source) <= MAX_CACHED_SOURCE:
        return _compile_cached(source)
    return _environment().from_string(source)


def _lookup(plugin: Any, *terms: Any, **options: Any) -> Any:
    """Ansible's `lookup()`, for the `env` plugin only (plugins/lookup/env.py)."""
    if plugin not in ("env", "ansible.builtin.env"):
        raise _Refused(
            f"lookup({_shown(plugin)}) is not supported: only lookup('env', NAME)", hint=SUPPORTED
        )
    unknown = sorted(set(options) - {"default", "wantlist"})
    if unknown:
        raise _Refused(
            f"lookup('env') takes default= and wantlist=, not {', '.join(map(_shown, unknown))}"
        )
    read = _read()
    environ = read.owner._environ if read.owner is not None else os.environ
    values = []
    for term in terms:
        if not isinstance(term, str) or not term.split():
            raise _Refused("lookup('env', ...) takes names of environment variables as text")
        name = term.split()[0]  # as Ansible: the first word of each term
        if is_secret_name(name):
            read.mark_secret()
        values.append(environ.get(name, options.get("default", "")))
    if options.get("wantlist") or not values:
        return values
    if len(values) == 1:
        return values[0]
    return ",".join(values) if all(isinstance(v, str) for v in values) else values


def _shown(value: Any) -> str:
    """A bounded, printable form of something from a template, for messages."""
    text = repr(value) if not isinstance(value, str) else repr(value[: _SHOWN + 1])
    text = "".join(c if c.isprintable() else "?" for c in text[: _SHOWN + 1])
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


def _detail(text: Any) -> str:
    """A bounded, printable error text (an exception's, which may fail to print)."""
    try:
        text = str(text)
    except Exception:
        text = "(unprintable)"
    cleaned = "".join(c if c.isprintable() else " " for c in text[: _SHOWN + 1])
    return cleaned if len(cleaned) <= _SHOWN else cleaned[:_SHOWN] + "..."


def _is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


def _with_trailing_newlines(source: str, value: Any) -> Any:
    """jinja2 drops one trailing newline of the template; Ansible puts them back on text."""
    if not isinstance(value, str):
        return value
    wanted = len(source) - len(source.rstrip("\n"))
    present = len(value) - len(value.rstrip("\n"))
    return value + "\n" * (wanted - present) if wanted > present else value


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
        read = _CURRENT.get()
        if read is not None and read.owner is self:
            return self._render(name, read)
        with self._lock:
            if name in self._cache:
                return self._cache[name]
            read = _Read(self)
            token = _CURRENT.set(read)
            try:
                return self._render(name, read)
            finally:
                _CURRENT.reset(token)

    def _resolve(self, name: str) -> Any:
        """A name a template reads: a magic variable, a host variable, or missing."""
        if name in self._magic:
            return self._magic[name]
        if name not in self._raw:
            return missing
        read = _CURRENT.get()
        try:
            value = self[name]
        except _UndefinedInput as error:
            # Undefined until used, as in Ansible: `default` and `is defined` see through it.
            return _Undefined(name=name, exc=functools.partial(_same_error, error))
        if read is not None and (is_secret_name(name) or self._secret.get(name, False)):
            read.mark_secret()
        return value

    def _render(self, name: str, read: _Read) -> Any:
        if name in self._cache:
            return self._cache[name]
        names = [frame.name for frame in read.chain]
        if name in names:
            loop = " -> ".join([*names[names.index(name) :], name])
            raise self._error(name, f"variables reference each other in a loop: {loop}")
        if len(names) >= MAX_CHAIN:
            raise self._error(name, f"variables reference variables more than {MAX_CHAIN} deep")
        frame = _Frame(name)
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

    def _render_raw(self, name: str, value: Any, frame: _Frame) -> Any:
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
            _read().charge(units)
        except _Refused as refused:
            raise self._error(name, refused.message, hint=refused.hint) from None

    def _render_text(self, name: str, source: str, frame: _Frame) -> Any:
        def secret() -> bool:
            return frame.secret or is_secret_name(name)

        if len(source) > MAX_TEMPLATE_CHARS:
            raise self._error(
                name,
                f"a template of {len(source):,} characters (at most {MAX_TEMPLATE_CHARS:,})",
                hint="inventory templates are short expressions",
            )
        try:
            template = _compile(source)
            value = _finish(template.root_render_func(template.new_context()))
        except InputError:
            raise  # from a variable this one reads: it names that one
        except _UndefinedVariable as error:
            raise self._undefined(name, error.variable) from None
        except TemplateAssertionError as error:
            raise self._unsupported(name, error, secret()) from None
        except TemplateSyntaxError as error:
            where = f" (line {error.lineno} of the value)" if "\n" in source else ""
            detail = _HIDDEN if secret() else _detail(error.message or "")
            raise self._error(
                name, f"template syntax error{where}: {detail}", hint=SUPPORTED
            ) from None
        except _Refused as refused:
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
        return _with_trailing_newlines(source, value)

    def _undefined(self, name: str, variable: str) -> InputError:
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
        found = re.match(r"No (filter|test) named '([^']{1,100})'", error.message or "")
        if found:
            what = f"{found.group(1)} {found.group(2)!r} is not available"
        else:
            what = f"template error: {_HIDDEN if secret else _detail(error.message or '')}"
        return self._error(name, what, hint=SUPPORTED)

    def _error(
        self, name: str, message: str, *, hint: str | None = None, kind: type = InputError
    ) -> InputError:
        read = _CURRENT.get()
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
