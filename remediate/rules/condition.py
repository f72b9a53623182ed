"""Sigma-like conditions over named selections (no I/O).

Grammar::

    expr    := term ("or" term)*
    term    := factor ("and" factor)*
    factor  := "not" factor | "(" expr ")" | quantifier | NAME
    quantifier := ("1" | "any" | "all") "of" (PATTERN | "them")

NAME is a selection name; PATTERN may end with `*` (`1 of mta_*`). `them` means every
selection. Unknown names and empty patterns are errors at load time, not at audit time.

Conditions come from playbook files, so a hostile one must fail cleanly: reading is linear in
the text, and nesting (parentheses and `not`) stops at MAX_NESTING levels instead of running
out of stack.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9_*.-]+)")

MAX_NESTING = 50
"""Parentheses and `not` nested deeper than this are an error (far beyond any real condition)."""


class ConditionError(ValueError):
    """A condition that cannot be parsed or names selections that do not exist."""


@dataclass(frozen=True)
class Condition:
    text: str
    names: frozenset[str]
    _evaluate: Callable[[Mapping[str, bool]], bool]

    def evaluate(self, results: Mapping[str, bool]) -> bool:
        """True when the condition holds for these selection results."""
        return self._evaluate(results)


def parse_condition(text: str, selections: Collection[str]) -> Condition:
    """Compile a condition against the known selection names."""
    tokens = _tokens(text)
    if not tokens:
        raise ConditionError("the condition is empty")
    parser = _Parser(tokens, sorted(selections))
    evaluate = parser.expression()
    if parser.position != len(tokens):
        raise ConditionError(f"unexpected {tokens[parser.position]!r} in condition {text!r}")
    return Condition(text, frozenset(parser.used), evaluate)


def _tokens(text: str) -> list[str]:
    tokens, position, end = [], 0, len(text.rstrip())
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None:
            unread = text[position:].lstrip()[:10]
            raise ConditionError(f"cannot read the condition at {unread!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str], names: list[str]) -> None:
        self.tokens = tokens
        self.names = names
        self.known = frozenset(names)
        self.position = 0
        self.depth = 0
        self.used: set[str] = set()

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise ConditionError("the condition ends too early")
        self.position += 1
        return token

    def expression(self) -> Callable[[Mapping[str, bool]], bool]:
        terms = [self.term()]
        while self._peek() == "or":
            self._take()
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else lambda r: any(t(r) for t in terms)

    def term(self) -> Callable[[Mapping[str, bool]], bool]:
        factors = [self.factor()]
        while self._peek() == "and":
            self._take()
            factors.append(self.factor())
        return factors[0] if len(factors) == 1 else lambda r: all(f(r) for f in factors)

    def factor(self) -> Callable[[Mapping[str, bool]], bool]:
        token = self._take()
        if token == "not":
            self._deeper()
            inner = self.factor()
            self.depth -= 1
            return lambda r: not inner(r)
        if token == "(":
            self._deeper()
            inner = self.expression()
            self.depth -= 1
            if self._peek() != ")":
                raise ConditionError("a parenthesis is not closed")
            self._take()
            return inner
        if token in ("1", "any", "all") and self._peek() == "of":
            self._take()
            chosen = self._pattern(self._take())
            if token == "all":
                return lambda r: all(r.get(n, False) for n in chosen)
            return lambda r: any(r.get(n, False) for n in chosen)
        if token in ("and", "or", "of", ")"):
            raise ConditionError(f"unexpected {token!r}")
        if token not in self.known:
            raise ConditionError(f"unknown selection {token!r} (known: {', '.join(self.names)})")
        self.used.add(token)
        return lambda r: bool(r.get(token, False))

    def _deeper(self) -> None:
        # Parsing and evaluating recurse once per level: the bound keeps both off the stack's end.
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ConditionError(
                f"the condition nests deeper than {MAX_NESTING} levels of parentheses and not"
            )

    def _pattern(self, pattern: str) -> list[str]:
        chosen = self.names if pattern == "them" else fnmatch.filter(self.names, pattern)
        if not chosen:
            raise ConditionError(f"no selection matches {pattern!r}")
        self.used.update(chosen)
        return list(chosen)
