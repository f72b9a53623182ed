"""Our reading of real Ansible trees against ansible-core's own (issue 14, "Tested against Ansible
itself").

Each folder of tests/inventory/ansible/corpus/ is an inventory as administrators keep them;
ansible-core's answers for it (hosts, groups, effective variables, rendered connection variables,
what 60+ host patterns select) are recorded in tests/inventory/ansible/answers/ by
`make ansible-answers`, so this runs where Ansible is not installed. Where it is, the last test
re-records into a temporary folder and checks the stored answers are current.

Every comparison lists all its disagreements at once, case by case, so that a failure reads as
a to-do list. KNOWN holds the disagreements not fixed yet: those tests are xfail, not strict,
and the mark goes when the reading agrees.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from remediate.errors import InputError
from remediate.inventory.model import Group, Host, Inventory
from remediate.inventory.vault import VaultedValue, VaultPassword
from tests.inventory.ansible import record

try:
    from remediate.connect.templating import rendered
    from remediate.inventory import hosts_for, load_sources
    from remediate.inventory.patterns import NO_MATCH, select

    MISSING = ""
except ImportError as exc:  # the loader of issue 14 is being written
    MISSING = f"not written yet: {exc}"

CASES = record.cases()
ANSWERS = {case.name: json.loads(record.answer_path(case).read_text("utf-8")) for case in CASES}
READ = [case for case in CASES if "refused" not in ANSWERS[case.name]]
REFUSED = [case for case in CASES if "refused" in ANSWERS[case.name]]
PASSWORDS = (VaultPassword(record.vault_password()),)
ENVIRON = record.environ()

MAY_REFUSE = {
    "05-yaml-top-level-groups": "a group given twice at the top level: Ansible warns of the "
    "duplicate key and keeps only the last (ex01 and ex02 silently leave `mailbox`)",
    "30-yaml-warnings": "`host:` misspelt in a group: Ansible warns and skips it (edge01 is "
    "silently not in the inventory)",
}
"""Cases Ansible reads with a warning where refusing, with a clear error, is as good."""

KNOWN: dict[tuple[str, str], str] = {}
"""(test, case) -> the disagreement not fixed yet (the test is xfail, not strict): found on
the loader of issue 14 as it stood when the corpus was written."""


def _cases(cases: list[Path], test: str) -> list[Any]:
    """pytest params for `test`: an xfail mark on known disagreements, on every case while our
    loader cannot be imported."""
    params = []
    for case in cases:
        reason = MISSING or KNOWN.get((test, case.name))
        marks = [pytest.mark.xfail(reason=reason, strict=False)] if reason else []
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


@functools.cache
def _ours(name: str) -> Inventory | InputError:
    """Our reading of a case (cached: every test of a case reads it once)."""
    case = record.CORPUS / name
    try:
        return load_sources(record.read_sources(case), vault_passwords=PASSWORDS)
    except InputError as exc:
        return exc


def _read(case: Path) -> Inventory:
    ours = _ours(case.name)
    if isinstance(ours, InputError):
        if case.name in MAY_REFUSE:
            pytest.skip(f"we refuse it ({ours}); acceptable: {MAY_REFUSE[case.name]}")
        pytest.fail(f"Ansible reads {case.name}, we refuse it: {ours}")
    return ours


def _plain(value: Any) -> Any:
    """One of our values as the answers write Ansible's: vaulted values decrypted (or
    UNDECRYPTABLE), secrets revealed."""

    def other(item: Any) -> Any:
        if isinstance(item, VaultedValue):
            try:
                return item.decrypt(PASSWORDS)
            except InputError:
                return dict(record.UNDECRYPTABLE)
        if hasattr(item, "reveal"):
            return item.reveal()
        raise TypeError(f"no plain form for a {type(item).__name__}")

    return record.to_json(value, other)


def _report(case: Path, what: str, problems: list[str]) -> None:
    if problems:
        listed = "\n".join(f"  {problem}" for problem in problems)
        pytest.fail(f"{case.name}: {len(problems)} {what} differ from Ansible's:\n{listed}", False)


# --- the corpus itself ----------------------------------------------------------------------


def test_the_corpus_is_as_issue_14_asks() -> None:
    patterns = record.read_patterns()
    assert len(CASES) >= 30
    assert len(patterns) >= 60
    assert len(set(patterns)) == len(patterns), "a pattern is listed twice"
    assert len(REFUSED) >= 3, "a few inventories Ansible refuses"
    assert any(ANSWERS[case.name]["warnings"] for case in READ), "a few it warns on"
    for case in CASES:
        assert record.read_sources(case), f"{case.name}: sources.txt names no source"
        for source in record.read_sources(case):
            assert source.exists(), f"{case.name}: {source} does not exist"
        if case in READ:
            assert set(ANSWERS[case.name]["patterns"]) == set(patterns), (
                f"{case.name}: answers are older than patterns.txt: run `make ansible-answers`"
            )
    stored = {path.stem for path in record.ANSWERS.glob("*.json")} - {Path(record.CLI_CHECK).stem}
    assert stored == {case.name for case in CASES}, "an answer without its case, or the reverse"


def test_the_cli_agreed_with_the_recorded_api_answers() -> None:
    check = json.loads((record.ANSWERS / record.CLI_CHECK).read_text("utf-8"))
    assert len(check["cases"]) >= 5
    assert check["disagreements"] == []


# --- reading --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _cases(REFUSED, "refused"))
def test_we_refuse_what_ansible_cannot_read(case: Path) -> None:
    ours = _ours(case.name)
    assert isinstance(ours, InputError), (
        f"Ansible refuses {case.name} ({ANSWERS[case.name]['refused']}); we read"
        f" {len(ours.hosts)} hosts"
    )


@pytest.mark.parametrize("case", _cases(READ, "inventory"))
def test_hosts_and_groups(case: Path) -> None:
    answer, ours = ANSWERS[case.name], _read(case)
    problems = []
    names = [host.name for host in ours.hosts]
    if names != answer["hosts"] and names != answer.get("hash_ordered", {}).get("hosts"):
        problems.append(f"hosts of `all`: ours {names}, Ansible's {answer['hosts']}")
    for name, group in answer["groups"].items():
        mine = ours.groups.get(name)
        if mine is None:
            if group["hosts"] or group["children"] or name != "ungrouped":
                problems.append(f"group {name}: we have no such group")
            continue
        for key in ("hosts", "children"):
            if list(getattr(mine, key)) != group[key]:
                problems.append(
                    f"group {name} {key}: ours {list(getattr(mine, key))}, Ansible's {group[key]}"
                )
        if mine.priority != group.get("priority", 1):
            problems.append(
                f"group {name} priority: ours {mine.priority}, Ansible's {group.get('priority', 1)}"
            )
    extra = set(ours.groups) - set(answer["groups"])
    if extra:
        problems.append(f"groups Ansible does not have: {sorted(extra)}")
    for host in ours.hosts:
        expected = answer["host_groups"].get(host.name)
        if expected is not None and sorted(host.groups) != expected:
            problems.append(f"{host.name} groups: ours {sorted(host.groups)}, Ansible's {expected}")
    _report(case, "hosts or groups", problems)


@pytest.mark.parametrize("case", _cases(READ, "hostvars"))
def test_effective_variables(case: Path) -> None:
    """Each host's merged raw variables: what `ansible-inventory --list` shows in
    _meta.hostvars (templates unrendered, vaulted values decrypted)."""
    answer, ours = ANSWERS[case.name], _read(case)
    problems = []
    for host in ours.hosts:
        expected = answer["hostvars"].get(host.name, {})
        mine = {name: _plain(value) for name, value in host.vars.items()}
        for name in sorted(set(expected) | set(mine)):
            if name not in mine:
                problems.append(f"{host.name}: we miss {name} = {expected[name]!r}")
            elif name not in expected:
                problems.append(f"{host.name}: we have {name} = {mine[name]!r}, Ansible has none")
            elif mine[name] != expected[name] or type(mine[name]) is not type(expected[name]):
                problems.append(
                    f"{host.name}: {name} ours {mine[name]!r}, Ansible's {expected[name]!r}"
                )
    _report(case, "variables", problems)


@pytest.mark.parametrize("case", _cases([c for c in READ if ANSWERS[c.name]["secret"]], "secret"))
def test_vaulted_values_are_secret(case: Path) -> None:
    """Every value that came out of a vault (a `!vault` value, an encrypted vars or inventory
    file) is one display code must hide."""
    answer, ours = ANSWERS[case.name], _read(case)
    problems = []
    for host in ours.hosts:
        values = rendered(host, vault_passwords=PASSWORDS, environ=ENVIRON).vars
        for name in answer["secret"].get(host.name, []):
            if not values.is_secret(name):
                problems.append(f"{host.name}: {name} is not secret")
    _report(case, "vaulted values", problems)


def _origin_text(case: Path, host: Host, name: str) -> str | None:
    origin = host.origin(name)
    if origin is None:
        return None
    path = Path(origin.file)
    try:
        where = path.resolve().relative_to(case.resolve()).as_posix()
    except ValueError:
        where = origin.file
    return f"{where}:{origin.line}" if origin.line else where


@pytest.mark.parametrize("case", _cases(READ, "origins"))
def test_where_each_value_was_written(case: Path) -> None:
    """The file (and line) of each effective value, as Ansible tags it: what `inventory --vars`
    shows as a value's source."""
    answer, ours = ANSWERS[case.name], _read(case)
    problems = []
    for host in ours.hosts:
        for name, expected in answer["origins"].get(host.name, {}).items():
            mine = _origin_text(case, host, name)
            if mine and ":" not in expected:  # Ansible's JSON reader tags no line
                mine = mine.rsplit(":", 1)[0]
            elif mine and isinstance(host.vars.get(name), dict | list):
                # We name the key's line; Ansible tags the value, which for a block mapping
                # or list starts on a later line. Only the file is compared.
                mine, expected = mine.rsplit(":", 1)[0], expected.rsplit(":", 1)[0]
            if mine != expected:
                problems.append(f"{host.name}: {name} from {mine}, Ansible's from {expected}")
    _report(case, "origins", problems)


def _same_connection_value(name: str, mine: Any, expected: Any) -> bool:
    """Equal; a port may be text on one side (both connect the same)."""
    if name == "ansible_port" and str(mine) == str(expected):
        return True
    return mine == expected and type(mine) is type(expected)


@pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")  # case 11
@pytest.mark.parametrize("case", _cases(READ, "connection"))
def test_connection_variables_rendered(case: Path) -> None:
    """ansible_host, _port, _user, _password, _connection... rendered as a task would see them:
    the same value, or an error where Ansible's templar fails."""
    answer, ours = ANSWERS[case.name], _read(case)
    problems = []
    for host in ours.hosts:
        values = rendered(host, vault_passwords=PASSWORDS, environ=ENVIRON).vars
        expected = answer["connection"].get(host.name, {})
        for name in record.CONNECTION_VARS:
            if name not in expected:
                if name in values:
                    problems.append(f"{host.name}: we have {name}, Ansible has none")
                continue
            try:
                mine = _plain(values[name])
            except InputError as exc:
                if "error" not in expected[name]:
                    problems.append(
                        f"{host.name}: {name} fails ({exc}), Ansible's {expected[name]!r}"
                    )
                continue
            except KeyError:
                problems.append(f"{host.name}: we miss {name}")
                continue
            if isinstance(expected[name], dict) and "error" in expected[name]:
                problems.append(
                    f"{host.name}: {name} = {mine!r}, Ansible fails: {expected[name]['error']}"
                )
            elif not _same_connection_value(name, mine, expected[name]):
                problems.append(f"{host.name}: {name} ours {mine!r}, Ansible's {expected[name]!r}")
    _report(case, "connection variables", problems)


# --- patterns -------------------------------------------------------------------------------


def _compare_patterns(inventory: Inventory, answer: Mapping[str, Any]) -> list[str]:
    problems = []
    for pattern, expected in answer["patterns"].items():
        found = _pattern_problems(inventory, pattern, expected)
        other = answer.get("hash_ordered", {}).get("patterns", {}).get(pattern)
        if found and other is not None and not _pattern_problems(inventory, pattern, other):
            continue  # Ansible's other order (see record._walk_in_order)
        problems += found
    return problems


def _pattern_problems(inventory: Inventory, pattern: str, expected: Mapping[str, Any]) -> list[str]:
    """How our selection for `pattern` differs from one answer of Ansible's."""
    wanted = expected.get("hosts") or []
    try:
        chosen = select(inventory, pattern)
    except InputError as exc:
        return [f"{pattern!r}: we fail ({exc}), Ansible selects {wanted}"] if wanted else []
    problems = []
    names = [host.name for host in chosen.hosts]
    if not wanted:
        why = expected.get("error") or "it selects no host"
        problems.append(f"{pattern!r}: we select {names}, Ansible: {why}")
    elif names != wanted:
        problems.append(f"{pattern!r}: ours {names}, Ansible's {wanted}")
    unmatched = [
        text.removeprefix(NO_MATCH) for text in chosen.warnings if text.startswith(NO_MATCH)
    ]
    if unmatched != expected.get("unmatched", []):
        problems.append(
            f"{pattern!r}: we warn that {unmatched} match nothing, Ansible that"
            f" {expected.get('unmatched', [])} do"
        )
    return problems


@pytest.mark.parametrize("case", _cases(READ, "patterns"))
def test_patterns_select_as_ansible(case: Path) -> None:
    """Every pattern of patterns.txt on our reading of the case, against
    `ansible PATTERN --list-hosts`: the same hosts in the same order; an error where Ansible
    selects none; the same sub-patterns warned as matching nothing."""
    _report(case, "patterns", _compare_patterns(_read(case), ANSWERS[case.name]))


def _ansibles_inventory(answer: Mapping[str, Any]) -> Inventory:
    """Ansible's hosts and groups as our model: patterns judged apart from reading."""
    hosts = tuple(Host(name, {}, tuple(answer["host_groups"][name])) for name in answer["hosts"])
    parents: dict[str, list[str]] = {name: [] for name in answer["groups"]}
    for name, group in answer["groups"].items():
        for child in group["children"]:
            parents[child].append(name)
    groups = {
        name: Group(
            name,
            {},
            tuple(group["hosts"]),
            tuple(group["children"]),
            tuple(parents[name]),
            priority=group.get("priority", 1),
        )
        for name, group in answer["groups"].items()
    }
    return Inventory(
        "<ansible>",
        hosts,
        {name: groups[name] for name in answer["declared"]["groups"]},
        first_met=tuple(answer["declared"]["hosts"]),
    )


@pytest.mark.parametrize("case", _cases(READ, "patterns-alone"))
def test_patterns_on_ansibles_own_reading(case: Path) -> None:
    """The same, on the hosts and groups Ansible read: a pattern bug, not a reading one."""
    answer = ANSWERS[case.name]
    _report(case, "patterns", _compare_patterns(_ansibles_inventory(answer), answer))


@pytest.mark.parametrize("case", _cases(READ, "limit-order"))
def test_limit_runs_hosts_in_inventory_order(case: Path) -> None:
    """`--limit PATTERN` keeps the hosts of `all` that the pattern selects, in the order of
    `all` (ansible-playbook's `inventory.subset`), not in the pattern's order."""
    answer = ANSWERS[case.name]
    inventory = _ansibles_inventory(answer)
    problems = []
    others = answer.get("hash_ordered", {}).get("patterns", {})
    for pattern, expected in answer["patterns"].items():
        wanted = expected.get("limit_order", expected.get("hosts"))
        if not wanted:
            continue
        names = [host.name for host in hosts_for(inventory, pattern)]
        other = others.get(pattern, {})
        if names not in (wanted, other.get("limit_order", other.get("hosts"))):
            problems.append(f"--limit {pattern!r}: ours {names}, Ansible's {wanted}")
    _report(case, "--limit orders", problems)


# --- the answers are Ansible's current ones --------------------------------------------------


@pytest.mark.skipif(
    importlib.util.find_spec("ansible") is None, reason="ansible-core not installed"
)
def test_recorded_answers_are_current(tmp_path: Path) -> None:
    """Re-record with the installed ansible-core (API only, no CLI) and compare."""
    recorder = Path(record.__file__)
    done = subprocess.run(
        [sys.executable, str(recorder), "--no-cli", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    stale = [
        case.name
        for case in CASES
        if record.answer_path(case, tmp_path).read_text("utf-8")
        != record.answer_path(case).read_text("utf-8")
    ]
    assert not stale, f"answers out of date (run `make ansible-answers`): {stale}"
