"""Conditions over selection results: every construct, precedence, and the errors a playbook
author sees (remediate/rules/condition.py)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remediate.rules.condition import MAX_NESTING, ConditionError, parse_condition

NAMES = ["mta_9411", "mta_9322", "imc_4", "is_1221"]


def holds(text: str, true: set[str], names: list[str] = NAMES) -> bool:
    """Parse `text` against `names` and evaluate it with `true` as the selections that hit."""
    condition = parse_condition(text, names)
    return condition.evaluate({n: n in true for n in names})


# --------------------------------------------------------------------------- constructs


def test_a_name_is_its_selection_result() -> None:
    assert holds("mta_9411", {"mta_9411"}) is True
    assert holds("mta_9411", {"mta_9322"}) is False


def test_a_selection_missing_from_the_results_counts_as_not_hit() -> None:
    condition = parse_condition("mta_9411 or imc_4", NAMES)
    assert condition.evaluate({}) is False
    assert condition.evaluate({"imc_4": True}) is True


@pytest.mark.parametrize(
    ("text", "true", "expected"),
    [
        ("not mta_9411", set(), True),
        ("not mta_9411", {"mta_9411"}, False),
        ("not not mta_9411", {"mta_9411"}, True),
        ("mta_9411 and imc_4", {"mta_9411", "imc_4"}, True),
        ("mta_9411 and imc_4", {"mta_9411"}, False),
        ("mta_9411 and imc_4", {"imc_4"}, False),
        ("mta_9411 or imc_4", {"imc_4"}, True),
        ("mta_9411 or imc_4", {"mta_9411"}, True),
        ("mta_9411 or imc_4", set(), False),
        ("mta_9411 and imc_4 and is_1221", {"mta_9411", "imc_4"}, False),
        ("mta_9411 and imc_4 and is_1221", {"mta_9411", "imc_4", "is_1221"}, True),
        ("mta_9411 or imc_4 or is_1221", {"is_1221"}, True),
        ("(mta_9411)", {"mta_9411"}, True),
        ("((mta_9411 or imc_4))", {"imc_4"}, True),
    ],
)
def test_operators(text: str, true: set[str], expected: bool) -> None:
    assert holds(text, true) is expected


@pytest.mark.parametrize(
    ("text", "true", "expected"),
    [
        ("1 of mta_*", {"mta_9322"}, True),
        ("1 of mta_*", {"imc_4"}, False),
        ("any of mta_*", {"mta_9411"}, True),
        ("any of mta_*", set(), False),
        ("all of mta_*", {"mta_9411"}, False),
        ("all of mta_*", {"mta_9411", "mta_9322"}, True),
        ("1 of them", {"is_1221"}, True),
        ("1 of them", set(), False),
        ("all of them", {"mta_9411", "mta_9322", "imc_4"}, False),
        ("all of them", set(NAMES), True),
        ("all of *", set(NAMES), True),
        ("1 of imc_4", {"imc_4"}, True),
        ("1 of *_4", {"imc_4"}, True),
        ("not 1 of mta_*", {"imc_4"}, True),
        ("1 of mta_* and not imc_4", {"mta_9411", "imc_4"}, False),
        ("all of mta_* or is_1221", {"is_1221"}, True),
    ],
)
def test_quantifiers(text: str, true: set[str], expected: bool) -> None:
    assert holds(text, true) is expected


def test_names_lists_every_selection_the_condition_reads() -> None:
    assert parse_condition("mta_9411 and not imc_4", NAMES).names == {"mta_9411", "imc_4"}
    assert parse_condition("1 of mta_* or is_1221", NAMES).names == {
        "mta_9411",
        "mta_9322",
        "is_1221",
    }
    assert parse_condition("1 of them", NAMES).names == set(NAMES)


def test_the_text_is_kept_as_written() -> None:
    assert parse_condition("  mta_9411\tor imc_4\n", NAMES).text == "  mta_9411\tor imc_4\n"


def test_spaces_are_optional_around_parentheses_and_free_elsewhere() -> None:
    assert holds("(mta_9411)and(imc_4)", {"mta_9411", "imc_4"}) is True
    assert holds("(mta_9411)and(imc_4)", {"mta_9411"}) is False
    assert holds("\n  mta_9411\n\tor\n imc_4  ", {"imc_4"}) is True


def test_quantifier_words_stay_selection_names_without_of() -> None:
    # `1`, `any` and `all` quantify only before `of`; alone they are (unknown) selection names.
    assert holds("any", {"any"}, ["any", "b"]) is True
    assert holds("all and b", {"all", "b"}, ["all", "b"]) is True
    with pytest.raises(ConditionError, match=r"unknown selection '1'"):
        parse_condition("1", NAMES)


# --------------------------------------------------------------------------- precedence


@pytest.mark.parametrize(
    ("text", "true", "expected"),
    [
        # and binds tighter than or: a or (b and c), not (a or b) and c
        ("mta_9411 or mta_9322 and imc_4", {"mta_9411"}, True),
        ("mta_9411 and mta_9322 or imc_4", {"imc_4"}, True),
        ("mta_9411 and mta_9322 or imc_4", {"mta_9411"}, False),
        # not binds tighter than and/or: (not a) and b, (not a) or b
        ("not mta_9411 and mta_9322", set(), False),
        ("not mta_9411 and mta_9322", {"mta_9322"}, True),
        ("not mta_9411 or mta_9322", {"mta_9411"}, False),
        ("not mta_9411 or mta_9322", {"mta_9411", "mta_9322"}, True),
        # parentheses override both
        ("(mta_9411 or mta_9322) and imc_4", {"mta_9411"}, False),
        ("not (mta_9411 and mta_9322)", {"mta_9411"}, True),
        ("not (mta_9411 or mta_9322)", {"mta_9322"}, False),
        # a quantifier is one factor: not applies to all of it, and binds it before or
        ("not 1 of mta_* and imc_4", {"imc_4"}, True),
        ("is_1221 or all of mta_* and imc_4", {"mta_9411", "mta_9322"}, False),
    ],
)
def test_precedence(text: str, true: set[str], expected: bool) -> None:
    assert holds(text, true) is expected


@dataclass(frozen=True)
class _Expr:
    """A random expression: its text with only the parentheses precedence needs, its truth."""

    text: str
    precedence: int  # 1 or, 2 and, 3 not, 4 atom
    truth: Callable[[dict[str, bool]], bool]


_ATOMS = st.sampled_from(["a", "b", "c"]).map(lambda n: _Expr(n, 4, lambda r, n=n: r[n]))


def _wrap(expr: _Expr, needed: int) -> str:
    return f"({expr.text})" if expr.precedence < needed else expr.text


def _extend(children: st.SearchStrategy[_Expr]) -> st.SearchStrategy[_Expr]:
    def negate(e: _Expr) -> _Expr:
        return _Expr(f"not {_wrap(e, 3)}", 3, lambda r: not e.truth(r))

    def both(pair: tuple[_Expr, _Expr]) -> _Expr:
        left, right = pair
        return _Expr(
            f"{_wrap(left, 2)} and {_wrap(right, 2)}",
            2,
            lambda r: left.truth(r) and right.truth(r),
        )

    def either(pair: tuple[_Expr, _Expr]) -> _Expr:
        left, right = pair
        return _Expr(
            f"{_wrap(left, 1)} or {_wrap(right, 1)}",
            1,
            lambda r: left.truth(r) or right.truth(r),
        )

    pairs = st.tuples(children, children)
    return children.map(negate) | pairs.map(both) | pairs.map(either)


@given(st.recursive(_ATOMS, _extend, max_leaves=12))
def test_random_expressions_agree_with_python_logic(expr: _Expr) -> None:
    condition = parse_condition(expr.text, ["a", "b", "c"])
    for values in itertools.product([False, True], repeat=3):
        results = dict(zip("abc", values, strict=True))
        assert condition.evaluate(results) is bool(expr.truth(results)), (expr.text, results)


# --------------------------------------------------------------------------- errors


def test_condition_error_is_a_value_error() -> None:
    # The playbook model turns ValueError from its validators into a located message.
    assert issubclass(ConditionError, ValueError)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the condition is empty"),
        ("   \n\t", "the condition is empty"),
        ("mta_9411 imc_4", "unexpected 'imc_4' in condition 'mta_9411 imc_4'"),
        ("mta_9411)", "unexpected ')' in condition 'mta_9411)'"),
        (")", "unexpected ')'"),
        ("and mta_9411", "unexpected 'and'"),
        ("mta_9411 or or imc_4", "unexpected 'or'"),
        ("of them", "unexpected 'of'"),
        ("mta_9411 and", "the condition ends too early"),
        ("not", "the condition ends too early"),
        ("1 of", "the condition ends too early"),
        ("(mta_9411 imc_4)", "a parenthesis is not closed"),
        ("(mta_9411", "a parenthesis is not closed"),
        ("((mta_9411 or imc_4)", "a parenthesis is not closed"),
        ("()", "unexpected ')'"),
        ("mta_9999", "unknown selection 'mta_9999' (known: imc_4, is_1221, mta_9322, mta_9411)"),
        ("MTA_9411", "unknown selection 'MTA_9411'"),
        ("mta_9411 AND imc_4", "unexpected 'AND' in condition"),
        ("1 of smtp_*", "no selection matches 'smtp_*'"),
        ("all of MTA_*", "no selection matches 'MTA_*'"),
        ("mta_9411, imc_4", "cannot read the condition at ', imc_4'"),
        ("mta_9411 && imc_4", "cannot read the condition at '&& imc_4'"),
        ("mta_9411 | imc_4", "cannot read the condition at '| imc_4'"),
        ("1 of mta_?", "cannot read the condition at '?'"),
        ("not mta_9411 or !imc_4", "cannot read the condition at '!imc_4'"),
    ],
)
def test_bad_conditions_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConditionError) as raised:
        parse_condition(text, NAMES)
    assert message in str(raised.value)


def test_them_needs_at_least_one_selection() -> None:
    with pytest.raises(ConditionError, match=r"no selection matches 'them'"):
        parse_condition("1 of them", [])


# --------------------------------------------------------------------------- hostile input


def test_nesting_up_to_the_limit_is_read() -> None:
    deep = "(" * MAX_NESTING + "mta_9411" + ")" * MAX_NESTING
    assert holds(deep, {"mta_9411"}) is True
    assert holds("not " * MAX_NESTING + "mta_9411", {"mta_9411"}) is (MAX_NESTING % 2 == 0)
    mixed = "not (" * (MAX_NESTING // 2) + "mta_9411" + ")" * (MAX_NESTING // 2)
    assert holds(mixed, set()) is (MAX_NESTING // 2 % 2 == 1)


@pytest.mark.parametrize(
    "text",
    [
        "(" * (MAX_NESTING + 1) + "mta_9411" + ")" * (MAX_NESTING + 1),
        "not " * (MAX_NESTING + 1) + "mta_9411",
        "(" * 100_000 + "mta_9411" + ")" * 100_000,
        "not " * 100_000 + "mta_9411",
        "not (" * 50_000 + "mta_9411" + ")" * 50_000,
        "(" * 100_000,
    ],
    ids=["parens+1", "not+1", "parens", "nots", "not-parens", "unclosed"],
)
def test_deep_nesting_is_a_condition_error_not_a_crash(text: str) -> None:
    # Before the bound, 400 parentheses raised RecursionError out of the playbook loader.
    with pytest.raises(ConditionError, match=rf"nests deeper than {MAX_NESTING} levels"):
        parse_condition(text, NAMES)


def test_reading_is_linear_in_the_text() -> None:
    # 20,000 names then 1 MB of blanks: re-reading the rest of the text for every token (as the
    # tokenizer once did) costs 20,000 x 1 MB, most of a minute; one pass takes milliseconds.
    text = " or ".join(["mta_9411"] * 20_000) + " " * 1_000_000 + "\n"
    started = time.perf_counter()
    condition = parse_condition(text, NAMES)
    assert time.perf_counter() - started < 2.0
    assert condition.evaluate({"mta_9411": True}) is True
    assert condition.evaluate({"mta_9411": False}) is False


def test_many_selections_are_looked_up_in_constant_time() -> None:
    names = [f"s{i:05d}" for i in range(20_000)]
    text = " and ".join(names)
    started = time.perf_counter()
    condition = parse_condition(text, names)
    assert time.perf_counter() - started < 2.0
    assert condition.names == set(names)
    assert condition.evaluate(dict.fromkeys(names, True)) is True
    assert condition.evaluate({**dict.fromkeys(names, True), "s19999": False}) is False
