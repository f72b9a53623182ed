"""Budgets for rendering inventory templates, and the guards that refuse a value before it is
allocated (plain Python: template_sandbox wires them into jinja2).

Ansible has no limits; jinja2's sandbox only caps `range` at 100,000 items. Here every value a
template makes is at most MAX_VALUE_CHARS of text, checked before `*`, `**`, `+`, `%`, `~`,
padding, replacing and joining allocate it (`'{{ "x" * 10**9 }}'` is refused, not computed),
and one read runs at most MAX_STEPS loop iterations, calls, filters and operators and MAX_WORK
characters of guarded work.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

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
"""tojson's largest indent: each level repeats it on every line of the output."""
MAX_SHOWN = 200
"""The most characters of a template's text or error an error message shows."""
_FLAG_CHARS = frozenset("#0- +.*0123456789hlL")


class Refused(Exception):
    """A template did something not allowed or not supported; the text is safe to show."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def value_too_big() -> Refused:
    """The error for a value over MAX_VALUE_CHARS, raised wherever one is caught early."""
    return Refused(
        f"the rendered value would exceed {MAX_VALUE_CHARS:,} characters",
        hint="inventory values are short; build large data elsewhere",
    )


# --- what one read costs ------------------------------------------------------------------


@dataclass
class VariableFrame:
    """A variable being rendered (Read.chain); `secret` once its rendering read a secret."""

    name: str
    secret: bool = False


class Read:
    """One read of a variable from outside (with the ones it references): its budget, the
    chain of variables being rendered, innermost last, and where its templates look up names
    (`resolve`: the host's variable, or jinja2's `missing`; None outside a host's read) and
    environment variables (`environ`)."""

    def __init__(
        self,
        owner: object | None = None,
        *,
        resolve: Callable[[str], Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.owner = owner
        self.resolve = resolve
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.chain: list[VariableFrame] = []
        self.steps = 0
        self.work = 0

    def step(self) -> None:
        """One loop iteration, call, filter or operator; refused past MAX_STEPS."""
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise Refused(
                f"the template runs more than {MAX_STEPS:,} steps (loop iterations, calls, "
                "filters)",
                hint="inventory templates should be short expressions",
            )

    def charge(self, units: int) -> None:
        """Characters made or scanned; refused past MAX_WORK."""
        self.work += units
        if self.work > MAX_WORK:
            raise Refused(
                f"the template makes or scans more than {MAX_WORK:,} characters",
                hint="inventory templates should be short expressions",
            )

    def mark_secret(self) -> None:
        """The variable being rendered read a secret, so display code must hide it."""
        if self.chain:
            self.chain[-1].secret = True


ACTIVE_READ: ContextVar[Read | None] = ContextVar("remediate_template_read", default=None)
"""The read under way in this thread or task, None outside one."""


def current_read() -> Read:
    """The read under way (a throwaway budget outside one, e.g. when jinja2 folds constants)."""
    return ACTIVE_READ.get() or Read()


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


def charged_size(value: Any, limit: int = MAX_VALUE_CHARS) -> int:
    """`value`'s size as text, measured at a cost charged to the read (so measuring is
    budgeted too)."""
    size = _measure(value, limit)
    current_read().charge(size)
    return size


def bounded_value(value: Any) -> Any:
    """`value` if it is within MAX_VALUE_CHARS: every result a template makes passes here."""
    if charged_size(value) > MAX_VALUE_CHARS:
        raise value_too_big()
    return value


def _refuse_over(estimate: int) -> None:
    if estimate > MAX_VALUE_CHARS:
        raise value_too_big()


def _number(value: Any) -> int:
    """The size an int argument asks for (0 for other types: Python rejects those itself)."""
    return abs(value) if isinstance(value, int) else 0


def shallow_size(value: Any) -> int:
    """A container's length without walking it: a cheap charge for copying or slicing it."""
    return len(value) if isinstance(value, str | bytes | list | tuple | dict | set) else 1


def bounded_list(value: Any) -> Any:
    """An iterable as a list (text and lists as they are), refused past MAX_VALUE_CHARS items."""
    if isinstance(value, str | bytes | list | tuple):
        return value
    items = []
    for item in value:
        items.append(item)
        if len(items) > MAX_VALUE_CHARS:
            raise value_too_big()
    current_read().charge(len(items))
    return items


# --- estimates made before a value is allocated --------------------------------------------


def check_binop(operator: str, left: Any, right: Any) -> None:
    """`left <operator> right` (`+`, `*`, `**`, `%`), refused before it makes a huge result."""
    numbers = isinstance(left, int) and isinstance(right, int)
    if operator == "**" and numbers and right > 0 and abs(left) > 1:
        if abs(left).bit_length() * right > MAX_INT_BITS:
            raise Refused(f"the template computes a number of more than {MAX_INT_BITS:,} bits")
    elif operator == "*" and numbers:
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise Refused(f"the template computes a number of more than {MAX_INT_BITS:,} bits")
    elif operator == "*":
        sequence, count = (left, right) if isinstance(right, int) else (right, left)
        if isinstance(sequence, str | bytes) and isinstance(count, int):
            _refuse_over(len(sequence) * max(count, 0))
        elif isinstance(sequence, list | tuple) and isinstance(count, int):
            _refuse_over(charged_size(sequence) * max(count, 0))
    elif operator == "+" and not numbers:
        _refuse_over(charged_size(left) + charged_size(right))
    elif operator == "%" and isinstance(left, str | bytes):
        _check_printf(left, right)


def _widths(spec: str) -> int:
    """The sum of the numbers written in a format spec (widths, precisions)."""
    total = 0
    for run in re.findall(r"[0-9]+", spec):
        if len(run) > 7:
            raise value_too_big()
        total += int(run)
    return total


def _check_printf(fmt: str | bytes, args: Any) -> None:
    """`fmt % args` (and jinja2's `format` filter): widths, stars and repeated fields."""
    text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt
    current_read().charge(len(text))
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
    _refuse_over(len(text) + widths + stars + specs * charged_size(args))


def check_str_format(fmt: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    """`str.format` / `format_map`: widths in the specs, and fields that repeat arguments."""
    current_read().charge(len(fmt))
    fields = widths = 0
    for _literal, field_name, spec, _conversion in string.Formatter().parse(fmt):
        if field_name is not None:
            fields += 1
            widths += _widths(spec or "")
    numbers = sum(_number(a) for a in args) + sum(_number(a) for a in kwargs.values())
    _refuse_over(len(fmt) + widths + numbers + fields * (charged_size(args) + charged_size(kwargs)))


def _check_replace(text: Any, old: Any, new: Any, count: Any = None) -> Any:
    if not isinstance(text, str | bytes):
        text = str(bounded_value(text))
    if isinstance(old, type(text)) and isinstance(new, type(text)):
        hits = text.count(old) if old else len(text) + 1
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        _refuse_over(len(text) + hits * len(new))
    return text


def check_method_call(
    method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, ...]:
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
            items = bounded_list(first)
            _refuse_over(charged_size(items) + len(owner) * len(items))
            return (items, *args[1:])
        elif name == "translate" and isinstance(first, dict):
            longest = max((shallow_size(v) for v in first.values()), default=1)
            _refuse_over(len(owner) * longest)
    elif isinstance(owner, int) and name == "to_bytes":
        _refuse_over(_number(kwargs.get("length", args[0] if args else 1)))
    return args


# Filters whose output can be far larger than their input, checked before they run (see
# FILTER_CHECKS).


def _filter_center(value: Any, width: Any = 80) -> Any:
    _refuse_over(charged_size(value) + _number(width))
    return value


def _filter_indent(value: Any, width: Any = 4, first: bool = False, blank: bool = False) -> Any:
    text = value if isinstance(value, str) else str(bounded_value(value))
    step = len(width) if isinstance(width, str) else _number(width)
    _refuse_over(len(text) + (text.count("\n") + 1) * step)
    return text


def _filter_wordwrap(value: Any, width: Any = 79, *args: Any, **kwargs: Any) -> Any:
    text = value if isinstance(value, str) else str(bounded_value(value))
    wrapstring = kwargs.get("wrapstring", args[1] if len(args) > 1 else None)
    _refuse_over(len(text) + (len(text) + 1) * shallow_size(wrapstring or "\n"))
    return text


def _filter_replace(value: Any, old: Any, new: Any, count: Any = None) -> Any:
    return _check_replace(value, str(old), str(new), count)


def _filter_format(value: Any, *args: Any, **kwargs: Any) -> Any:
    if isinstance(value, str):
        _check_printf(value, kwargs or args)
    return value


def _filter_join(value: Any, d: Any = "", attribute: Any = None) -> Any:
    items = bounded_list(value)
    _refuse_over(charged_size(items) + charged_size(d) * len(items))
    return items


def _filter_sum(iterable: Any, attribute: Any = None, start: Any = 0) -> Any:
    items = bounded_list(iterable)
    if not isinstance(start, int | float):  # adding lists one by one is quadratic
        current_read().charge(len(items) * charged_size(items))
    return items


def _filter_tojson(value: Any, indent: Any = None) -> Any:
    if shallow_size(indent) > MAX_TOJSON_INDENT or _number(indent) > MAX_TOJSON_INDENT:
        raise Refused(f"tojson's indent is at most {MAX_TOJSON_INDENT}")
    return value


def _filter_repeat_count(value: Any, count: Any = 0, *args: Any, **kwargs: Any) -> Any:
    _refuse_over(_number(count))
    return value


def _filter_urlize(value: Any, *args: Any, **kwargs: Any) -> Any:
    text = value if isinstance(value, str) else str(bounded_value(value))
    extra = sum(charged_size(v) for v in (*args, *kwargs.values()))
    _refuse_over(len(text) * (3 + extra))
    return text


FILTER_CHECKS: dict[str, Any] = {
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
"""Checks run before jinja2's filter of that name: each takes the filter's own arguments (as
jinja2 names them), refuses a result that would be too big, and returns the value to filter."""
