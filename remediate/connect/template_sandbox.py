"""The jinja2 sandbox that inventory templates render in, made to give what ansible-core 2.19
gives; every operation in it is counted and bounded by template_limits.

What follows ansible-core 2.19 (read in its source, lib/ansible/_internal/_templating/, and
checked by running `ansible -m debug` on the same values):
* Native types (AnsibleEnvironment.concat in _jinja_bits.py): of the template's output nodes,
  `None`s are dropped; no node gives None, one node is the value as it is (`"{{ 5986 }}"` ->
  5986, `"{{ flag }}"` -> a bool, `"{{ '5' }}"` -> '5': no `literal_eval` as jinja2's
  NativeEnvironment does), several are joined as text. Tuples, iterators and dict views become
  lists; other objects are refused ("Type 'range' is unsupported for variable storage").
* `trim_blocks`; a text result keeps the template's trailing newlines (_engine.py,
  `_post_render_mutation`), so `"{{ 5986 }}\\n"` is still 5986.
* `lookup('env', NAME, ...)` (plugins/lookup/env.py): the first word of each term, '' when unset
  unless `default=` is given, several values joined with ',' (`_invoke_lookup` in
  _jinja_plugins.py), a list with `wantlist=True`.
"""

from __future__ import annotations

import datetime
import functools
import operator
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from typing import Any

from jinja2 import Template, nodes
from jinja2.compiler import Frame
from jinja2.exceptions import UndefinedError
from jinja2.nativetypes import NativeCodeGenerator
from jinja2.runtime import Context, LoopContext, StrictUndefined, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import missing

from remediate.connect.template_limits import (
    ACTIVE_READ,
    FILTER_CHECKS,
    MAX_SHOWN,
    MAX_VALUE_CHARS,
    Refused,
    bounded_list,
    bounded_value,
    charged_size,
    check_binop,
    check_method_call,
    check_str_format,
    current_read,
    shallow_size,
    value_too_big,
)
from remediate.inventory.model import is_secret_name

MAX_CACHED_SOURCE = 4096
"""Longer templates are compiled each time rather than kept in the shared cache."""
SUPPORTED = (
    "inventory templates have jinja2's built-in filters and tests, lookup('env', NAME), "
    "inventory_hostname, inventory_hostname_short and group_names; Ansible's own filters, "
    "lookups and variables (to_json, regex_replace, query, hostvars...) are not available"
)
"""What a template may use, the hint of every error about something it may not."""


class UndefinedVariableError(UndefinedError):
    """jinja2's error for an undefined top-level name, with the name (for a message that can
    say how to define it)."""

    def __init__(self, variable: str, message: str | None = None) -> None:
        super().__init__(message)
        self.variable = variable


def _guarded_filter(name: str, function: Any) -> Any:
    """`function` counted as a step, checked before it runs when it can grow, its result
    bounded. jinja2's `pass_context` & co. marks are kept (`wraps` copies `__dict__`)."""
    skip = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0
    check = FILTER_CHECKS.get(name)

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        read = current_read()
        read.step()
        if len(args) > skip:
            read.charge(shallow_size(args[skip]))
            if check is not None:
                value = check(*args[skip:], **kwargs)
                args = (*args[:skip], value, *args[skip + 1 :])
        return bounded_value(function(*args, **kwargs))

    return guarded


def _guarded_test(function: Any) -> Any:
    """A test (`is in`, `is eq`...) counted as a step, its arguments' sizes charged."""
    skip = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        current_read().step()
        for argument in (*args[skip:], *kwargs.values()):
            charged_size(argument)
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
    read = current_read()
    if isinstance(value, dict):
        read.charge(len(value))
        return {_plain_key(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | KeysView | ValuesView | ItemsView):
        read.charge(len(value))
        return [_plain(item) for item in value]
    if isinstance(value, Iterator):
        return [_plain(item) for item in bounded_list(value)]
    raise Refused(
        f"the template gives a {type(value).__name__!r} object, not a value (text, number, "
        "bool, list, dict or none)"
    )


def _plain_key(key: Any) -> Any:
    if isinstance(key, str):
        return str(key)
    if key is None or isinstance(key, bool | int | float):
        return key
    raise Refused(f"the template gives a dict key of type {type(key).__name__!r}")


def _finish(output: Iterable[Any]) -> Any:
    """The output nodes as one value, as ansible-core 2.19's concat (see the module's note)."""
    read = current_read()
    kept = []
    left = MAX_VALUE_CHARS
    for node in output:
        if node is None:
            continue
        read.step()
        if charged_size(node, left) > left:  # before walking it: shared parts may nest deep
            raise value_too_big()
        value = _plain(node)
        left -= charged_size(value, left)
        if left < 0:
            raise value_too_big()
        kept.append(value)
    if not kept:
        return None
    if len(kept) == 1:
        return kept[0]
    text = "".join(v if isinstance(v, str) else str(v) for v in kept)
    if len(text) > MAX_VALUE_CHARS:
        raise value_too_big()
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


class _NamedUndefined(StrictUndefined):
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
            exc = functools.partial(UndefinedVariableError, name)
        super().__init__(hint, obj, name, exc)


class _HostContext(Context):
    """Names resolve to the host's variables, rendered on first use (jinja2's documented way:
    override `resolve_or_missing`), before jinja2's globals."""

    def resolve_or_missing(self, key: str) -> Any:
        if key in self.vars:
            return self.vars[key]
        read = ACTIVE_READ.get()
        if read is not None and read.resolve is not None:
            found = read.resolve(key)
            if found is not missing:
                return found
        return self.parent.get(key, missing)


def undefined_because(name: str, error: Exception) -> Undefined:
    """`name` as an undefined value that raises `error` when used: a variable whose own
    template failed is undefined where others read it, so `default` and `is defined` work."""
    return _NamedUndefined(name=name, exc=functools.partial(_same_error, error))


def _same_error(error: Exception, _message: str | None = None) -> Exception:
    """The error an undefined value raises when used: the one that made it undefined."""
    return error


class _Sandbox(ImmutableSandboxedEnvironment):
    """jinja2's immutable sandbox with Ansible's native types and our size guards."""

    code_generator_class = _CodeGenerator
    context_class = _HostContext
    concat = staticmethod(_finish)  # macro and `{% set %}` block bodies, typed as output
    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def __init__(self) -> None:
        super().__init__(undefined=_NamedUndefined, trim_blocks=True, autoescape=False)
        self.globals.pop("lipsum", None)  # lipsum(n=10**6) writes gigabytes
        self.globals["lookup"] = _lookup
        self.filters = {name: _guarded_filter(name, f) for name, f in self.filters.items()}
        self.tests = {name: _guarded_test(f) for name, f in self.tests.items()}

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        current_read().step()
        check_binop(operator, left, right)
        return bounded_value(self.binop_table[operator](left, right))

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        current_read().step()
        if isinstance(obj, LoopContext) and args:  # `loop(children)` in a recursive loop
            args = (self.counted(args[0]), *args[1:])
        args = check_method_call(obj, args, kwargs)
        return bounded_value(super().call(context, obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__

        is_map = value.__name__ == "format_map"

        @functools.wraps(wrapped)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not is_map:
                check_str_format(fmt, args, kwargs)
            elif args and isinstance(args[0], Mapping):
                check_str_format(fmt, (), args[0])
            return bounded_value(wrapped(*args, **kwargs))

        return guarded

    def getitem(self, obj: Any, argument: Any) -> Any:
        value = super().getitem(obj, argument)
        if isinstance(argument, slice):  # a slice is a copy
            current_read().charge(shallow_size(value))
        return value

    @staticmethod
    def made(value: Any) -> Any:
        """A list, tuple or dict written in the template: shared parts could nest into a value
        that prints as gigabytes (`[a, a]` ten times over), so it is measured."""
        return bounded_value(value)

    @staticmethod
    def compare(left: Any, *operands: Any) -> Any:
        """`a == b`, `a in b`...: a step, and the operands' sizes charged (comparing is linear)."""
        current_read().step()
        charged_size(left)
        result: Any = True
        for index in range(0, len(operands), 2):
            right = operands[index + 1]
            charged_size(right)
            result = _COMPARISONS[operands[index]](left, right)
            if not result:
                return result
            left = right
        return result

    @staticmethod
    def counted(iterable: Any) -> Iterator[Any]:
        read = current_read()
        for item in iterable:
            read.step()
            yield item

    @staticmethod
    def concat_text(parts: tuple[Any, ...]) -> str:
        """`a ~ b`: each part as text, refused before the joined text would be too long."""
        left = MAX_VALUE_CHARS
        texts = []
        for part in parts:
            left -= len(part) if isinstance(part, str) else charged_size(part, left)
            if left < 0:
                raise value_too_big()
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
        raise Refused(
            f"lookup({_shown(plugin)}) is not supported: only lookup('env', NAME)", hint=SUPPORTED
        )
    unknown = sorted(set(options) - {"default", "wantlist"})
    if unknown:
        raise Refused(
            f"lookup('env') takes default= and wantlist=, not {', '.join(map(_shown, unknown))}"
        )
    read = current_read()
    values = []
    for term in terms:
        if not isinstance(term, str) or not term.split():
            raise Refused("lookup('env', ...) takes names of environment variables as text")
        name = term.split()[0]  # as Ansible: the first word of each term
        if is_secret_name(name):
            read.mark_secret()
        values.append(read.environ.get(name, options.get("default", "")))
    if options.get("wantlist") or not values:
        return values
    if len(values) == 1:
        return values[0]
    return ",".join(values) if all(isinstance(v, str) for v in values) else values


def _shown(value: Any) -> str:
    """A bounded, printable form of something from a template, for messages."""
    text = repr(value) if not isinstance(value, str) else repr(value[: MAX_SHOWN + 1])
    text = "".join(c if c.isprintable() else "?" for c in text[: MAX_SHOWN + 1])
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "..."


def _with_trailing_newlines(source: str, value: Any) -> Any:
    """jinja2 drops one trailing newline of the template; Ansible puts them back on text."""
    if not isinstance(value, str):
        return value
    wanted = len(source) - len(source.rstrip("\n"))
    present = len(value) - len(value.rstrip("\n"))
    return value + "\n" * (wanted - present) if wanted > present else value


def render_template(source: str) -> Any:
    """The value of the template `source`, typed as ansible-core 2.19 types it; names resolve
    through the read under way (ACTIVE_READ)."""
    template = _compile(source)
    value = _finish(template.root_render_func(template.new_context()))
    return _with_trailing_newlines(source, value)
