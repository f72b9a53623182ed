"""Record how ansible-core reads every corpus inventory, for the differential test (issue 14).

`make ansible-answers` runs this with the venv's Python (ansible-core installed there) and
rewrites `answers/NN-name.json`, one per folder of `corpus/`. Each answer holds what Ansible
makes of the folder's `-i` sources (`sources.txt`, one a line, `#` comments):

* `hosts`: the hosts of the pattern `all`, in Ansible's order;
* `groups`: each group's direct hosts and child groups (and `priority` when not 1);
* `declared`: the groups and the hosts in the order Ansible first met them (its
  InventoryData's dicts): the order in which patterns try groups, and list hosts that a
  wildcard or `~regex` matches by name;
* `host_groups`: every group each host is in, `all` included (sorted);
* `hostvars`: each host's effective variables, raw (templates unrendered), as
  `ansible-inventory --list` gives them in `_meta.hostvars`; vaulted values decrypted;
* `secret`: per host, the variables whose value came out of Ansible Vault (`!vault` or an
  encrypted file);
* `origins`: per host, `file:line` of each variable's effective value (as Ansible tags it);
* `connection`: per host, the connection variables rendered by Ansible's templar, or the
  error rendering one gives;
* `patterns`: for each line of `patterns.txt`, the hosts `ansible PATTERN --list-hosts`
  lists, in order (none: `[]`), or the error Ansible raises; the sub-patterns it warned match
  nothing (`unmatched`), any other warning it printed, and `limit_order` when `--limit
  PATTERN` runs the same hosts in another order (the order of `all`);
* `warnings`: what reading the inventory printed as warnings;
* `hash_ordered`: where ansible-core's own order depends on object hashes (see
  `_walk_in_order`), the answers of the other order (`hosts`, and `patterns` by pattern);
* `refused`: set instead of the above when Ansible cannot read the inventory (a source no
  plugin parses, a vars file it rejects, a vault it cannot open).

The in-process API (InventoryManager, VariableManager, Templar) is used because 30 inventories
times 60 patterns through the CLIs would take an hour; a full run then runs the real CLIs on
`CLI_CASES` and stops if they disagree with the API (`answers/cli-check.json` says what was
compared). The output is stable: no absolute paths, no timestamps, sorted keys.

Only this file's helpers without an ansible import (`cases`, `read_sources`, `read_patterns`,
`vault_password`, `environ`, `to_json`, ...) are used by the test, which runs without Ansible.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
ANSWERS = HERE / "answers"
PATTERNS = HERE / "patterns.txt"
VAULT_PASSWORD_FILE = HERE / "vault-password.txt"
ENVIRON_FILE = HERE / "environ.json"
CONFIG_FILE = HERE / "recorder.cfg"
CLI_CHECK = "cli-check.json"

ANSIBLE_SERIES = "2.19"
"""The ansible-core release the answers are recorded with (major.minor: patch releases do not
change inventory reading; a new series is worth a look at every answer that changes)."""

CONNECTION_VARS = (
    "ansible_host",
    "ansible_port",
    "ansible_user",
    "ansible_password",
    "ansible_connection",
    "ansible_winrm_transport",
    "ansible_winrm_scheme",
    "ansible_winrm_server_cert_validation",
    "ansible_shell_type",
)
"""The variables whose rendered value decides how a host is reached."""

CLI_CASES = ("01", "03", "08", "09", "16", "17", "23")
"""Cases (by number) a full run also reads with the real `ansible-inventory` and `ansible`."""

CLI_PATTERNS = (
    "all",
    "exchange:!edge",
    "windows:&exchange:!ex02*",
    "~ex0[12]",
    "exchange[1:]",
    "exchange[99]",
    "ex01.corp.local:dc01.corp.local",
    "nosuchgroup:exchange",
    "*.corp.local",
    "mailbox[0]:edge[-1]",
)
"""The patterns (all in patterns.txt) each CLI case checks with `ansible PATTERN --list-hosts`."""

DATE_KEY = "__date__"
"""A YAML date is recorded as {"__date__": "2024-03-01"} (JSON has no dates)."""

UNDECRYPTABLE = {"__undecryptable__": True}
"""A `!vault` value the corpus's password does not open (Ansible fails only when it is used)."""


# --- the corpus, shared with the test (no ansible import) -----------------------------------


def cases() -> list[Path]:
    """The corpus folders, in name order."""
    return sorted(path for path in CORPUS.iterdir() if path.is_dir())


def _lines(path: Path) -> list[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def read_sources(case: Path) -> list[Path]:
    """The case's `-i` sources, in order (`sources.txt`: one a line, relative to the case)."""
    return [case / line for line in _lines(case / "sources.txt")]


def read_patterns() -> list[str]:
    """The host patterns every inventory is asked (`patterns.txt`: one a line)."""
    return _lines(PATTERNS)


def vault_password() -> str:
    """The corpus's vault password (Ansible strips the file's trailing newline too)."""
    return VAULT_PASSWORD_FILE.read_text(encoding="utf-8").strip()


def environ() -> dict[str, str]:
    """The environment `lookup('env', ...)` sees, for Ansible and for us alike."""
    return json.loads(ENVIRON_FILE.read_text(encoding="utf-8"))


def answer_path(case: Path, out: Path = ANSWERS) -> Path:
    """Where a case's recorded answer lives."""
    return out / f"{case.name}.json"


def to_json(value: Any, other: Callable[[Any], Any] | None = None) -> Any:
    """A variable's value as the answers record it (the test turns our values the same way).

    Mappings, lists, text, numbers, booleans and null as JSON has them; dates as
    {"__date__": iso}; anything else goes through `other` (a vaulted value, decrypted).
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return {DATE_KEY: value.isoformat()}
    if isinstance(value, Mapping):
        return {str(key): to_json(item, other) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item, other) for item in value]
    if other is not None:
        return to_json(other(value), None)
    raise TypeError(f"no JSON form for a {type(value).__name__}")


def first_line(text: str, case: Path | None = None) -> str:
    """A message's first line, without this machine's paths."""
    if case is not None:
        text = text.replace(str(case.resolve()), "<case>").replace(str(case), "<case>")
    text = text.replace(str(HERE), "<corpus-root>")
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


def dump(answer: Mapping[str, Any]) -> str:
    """The answer file's text, stable and short: sorted keys, a mapping's entries one a line,
    but a list of plain values on one line and a pattern's answer on one line."""
    shown = dict(answer)
    if isinstance(answer.get("patterns"), Mapping):
        shown["patterns"] = {key: _OneLine(item) for key, item in answer["patterns"].items()}
    if isinstance(answer.get("hash_ordered", {}).get("patterns"), Mapping):
        other = dict(answer["hash_ordered"])
        other["patterns"] = {key: _OneLine(item) for key, item in other["patterns"].items()}
        shown["hash_ordered"] = other
    return _dumped(shown, "") + "\n"


class _OneLine:
    def __init__(self, value: Any) -> None:
        self.text = json.dumps(value, ensure_ascii=False, sort_keys=True)


def _dumped(value: Any, indent: str) -> str:
    inner = indent + " "
    if isinstance(value, _OneLine):
        return value.text
    if isinstance(value, Mapping) and value:
        items = [f"{inner}{json.dumps(key)}: {_dumped(value[key], inner)}" for key in sorted(value)]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, list) and any(isinstance(item, (Mapping, list)) for item in value):
        return (
            "[\n" + ",\n".join(inner + _dumped(item, inner) for item in value) + "\n" + indent + "]"
        )
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# --- the environment Ansible runs in --------------------------------------------------------


def ansible_environ(home: str) -> dict[str, str]:
    """This process's environment without any ANSIBLE_* setting, then ours: the recorder's
    config file, a private ANSIBLE_HOME, and the corpus's environment variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_CONFIG=str(CONFIG_FILE),
        ANSIBLE_HOME=home,
        ANSIBLE_LOCAL_TEMP=str(Path(home) / "tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
    )
    env.update(environ())
    return env


# --- reading with ansible-core, in process --------------------------------------------------


class Reader:
    """ansible-core's Python API, set up once for every case (vault secret, plugins)."""

    def __init__(self) -> None:
        from ansible.cli import CLI
        from ansible.errors import AnsibleError
        from ansible.inventory.group import Group
        from ansible.inventory.manager import InventoryManager
        from ansible.parsing.dataloader import DataLoader
        from ansible.parsing.vault import VaultSecret, VaultSecretsContext
        from ansible.plugins.loader import init_plugin_loader
        from ansible.template import Templar
        from ansible.utils.display import Display
        from ansible.vars.manager import VariableManager

        init_plugin_loader()
        self.secrets = [("default", VaultSecret(vault_password().encode()))]
        VaultSecretsContext.initialize(VaultSecretsContext(self.secrets))
        self.CLI, self.AnsibleError = CLI, AnsibleError
        self.InventoryManager, self.VariableManager = InventoryManager, VariableManager
        self.DataLoader, self.Templar = DataLoader, Templar
        self.display = Display()
        self.printed: list[str] = []
        original = Display.display

        def display(this: Any, msg: str, *args: Any, **kwargs: Any) -> None:
            if msg.startswith(("[WARNING]", "[DEPRECATION WARNING]", "[ERROR]")):
                self.printed.append(msg)
            elif not kwargs.get("stderr"):
                original(this, msg, *args, **kwargs)

        Display.display = display  # type: ignore[method-assign]
        WALK.original = Group._walk_relationship
        Group._walk_relationship = _walk_in_order  # type: ignore[method-assign]

    @contextlib.contextmanager
    def warnings(self, case: Path) -> Iterator[list[str]]:
        """The warnings printed inside the block (Ansible prints each text once a process:
        forgotten here, so every case and pattern shows its own)."""
        self.display._warns.clear()
        self.display._deprecations.clear()
        self.printed.clear()
        found: list[str] = []
        try:
            yield found
        finally:
            for message in self.printed:
                line = first_line(message, case)
                if line not in found:
                    found.append(line)

    def read(self, case: Path, patterns: list[str]) -> dict[str, Any]:
        """The answer for one case; where Ansible's order follows object hashes (WALK), the
        answer of the walk in declared order, and the other walk's in `hash_ordered`."""
        WALK.reverse = WALK.dependent = False
        answer = self._read_once(case, patterns)
        if not WALK.dependent:
            return answer
        WALK.reverse = True
        other = self._read_once(case, patterns)
        WALK.reverse = False
        differing: dict[str, Any] = {}
        if other.get("hosts") != answer.get("hosts"):
            differing["hosts"] = other.get("hosts")
        for pattern, entry in answer.get("patterns", {}).items():
            if other["patterns"][pattern] != entry:
                differing.setdefault("patterns", {})[pattern] = other["patterns"][pattern]
        if differing:
            answer["hash_ordered"] = differing
        return answer

    def _read_once(self, case: Path, patterns: list[str]) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "ansible_core": ANSIBLE_SERIES,
            "sources": _lines(case / "sources.txt"),
        }
        loader = self.DataLoader()
        loader.set_vault_secrets(self.secrets)
        sources = [str(path) for path in read_sources(case)]
        with self.warnings(case) as warned:
            try:
                inventory = self.InventoryManager(loader=loader, sources=sources)
                variables = self.VariableManager(loader=loader, inventory=inventory)
                hosts = inventory.get_hosts("all")
                raw = {host.name: self._hostvars(variables, host) for host in hosts}
            except Exception as exc:  # Ansible refuses the inventory: recorded, not raised
                answer["refused"] = first_line(f"{type(exc).__name__}: {exc}", case)
        answer["warnings"] = warned
        unparsed = [line for line in warned if "as an inventory source" in line]
        if unparsed and "refused" not in answer:
            answer["refused"] = unparsed[0]
        if "refused" in answer:
            return answer
        answer["hosts"] = [host.name for host in hosts]
        answer["groups"] = {name: self._group(group) for name, group in inventory.groups.items()}
        answer["declared"] = {"groups": list(inventory.groups), "hosts": list(inventory.hosts)}
        answer["host_groups"] = {
            host.name: sorted(g.name for g in host.get_groups()) for host in hosts
        }
        answer["hostvars"], answer["secret"], answer["origins"] = {}, {}, {}
        for host in hosts:
            values, secret, origins = self._plain(case, raw[host.name])
            answer["hostvars"][host.name] = values
            if secret:
                answer["secret"][host.name] = secret
            if origins:
                answer["origins"][host.name] = origins
        answer["connection"] = {
            host.name: self._connection(case, loader, variables, host, raw[host.name])
            for host in hosts
        }
        answer["patterns"] = {
            pattern: self._select(case, inventory, pattern) for pattern in patterns
        }
        return answer

    @staticmethod
    def _group(group: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "hosts": [host.name for host in group.hosts],
            "children": [child.name for child in group.child_groups],
        }
        if group.priority != 1:
            entry["priority"] = group.priority
        return entry

    def _hostvars(self, variables: Any, host: Any) -> dict[str, Any]:
        """What `ansible-inventory --list` shows for the host (its `_get_host_variables`)."""
        from ansible import constants

        found = variables.get_vars(host=host, include_hostvars=False, stage="all")
        return {
            key: value for key, value in found.items() if key not in constants.INTERNAL_STATIC_VARS
        }

    def _plain(
        self, case: Path, raw: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[str], dict[str, str]]:
        """JSON values, the vaulted variables, and where each value was written."""
        from ansible._internal._datatag._tags import Origin
        from ansible.parsing.vault import EncryptedString

        values, secret, origins = {}, [], {}
        for name, value in raw.items():
            values[name] = to_json(value, _decrypted)
            origin = Origin.get_tag(value)
            if isinstance(value, EncryptedString) or (origin and _is_vault_file(origin.path)):
                secret.append(name)
            if origin and origin.path:
                where = os.path.relpath(origin.path, case.resolve())
                origins[name] = f"{where}:{origin.line_num}" if origin.line_num else where
        return values, sorted(secret), origins

    def _connection(
        self, case: Path, loader: Any, variables: Any, host: Any, raw: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The connection variables the host has, rendered as a task would see them."""
        present = [name for name in CONNECTION_VARS if name in raw]
        if not present:
            return {}
        every = variables.get_vars(host=host, include_hostvars=True, stage="all")
        templar = self.Templar(loader=loader, variables=every)
        rendered: dict[str, Any] = {}
        for name in present:
            try:
                value = templar.template(every[name])
                rendered[name] = to_json(value, _decrypted)
            except self.AnsibleError as exc:
                rendered[name] = {"error": first_line(str(exc), case)}
        return rendered

    def _select(self, case: Path, inventory: Any, pattern: str) -> dict[str, Any]:
        """What `ansible PATTERN --list-hosts` lists (`InventoryManager.list_hosts`): the hosts in
        the pattern's order, none, or an error; the sub-patterns Ansible warned match nothing;
        any other warning; and, when it differs, the order `--limit PATTERN` runs them in."""
        entry: dict[str, Any] = {}
        with self.warnings(case) as warned:
            try:
                entry["hosts"] = self._names(inventory, lambda: inventory.list_hosts(pattern))
                limited = self._names(inventory, lambda: self._limited(inventory, pattern))
                if limited != entry["hosts"]:
                    entry["limit_order"] = limited
            except Exception as exc:  # an error is the answer
                name = "" if isinstance(exc, self.AnsibleError) else f"{type(exc).__name__}: "
                entry = {"error": first_line(f"{name}{exc}", case)}
        for line in warned:
            if line.startswith(UNMATCHED):
                if line[len(UNMATCHED) :] not in entry.setdefault("unmatched", []):
                    entry["unmatched"].append(line[len(UNMATCHED) :])
            else:
                entry.setdefault("warnings", []).append(line)
        return entry

    @staticmethod
    def _names(inventory: Any, select: Callable[[], list[Any]]) -> list[str]:
        inventory.clear_pattern_cache()
        inventory._hosts_patterns_cache.clear()
        return [getattr(host, "name", str(host)) for host in select()]

    @staticmethod
    def _limited(inventory: Any, pattern: str) -> list[Any]:
        """`--limit PATTERN` on a play of `hosts: all`: the same hosts, in the order of `all`."""
        inventory.subset(pattern)
        try:
            return inventory.get_hosts("all")
        finally:
            inventory.subset(None)


UNMATCHED = "[WARNING]: Could not match supplied host pattern, ignoring: "


class _Walk:
    """How `_walk_in_order` goes: declared order or its reverse; whether it mattered."""

    reverse = False
    dependent = False
    original: Any = None


WALK = _Walk()


def _walk_in_order(
    self: Any, rel: str, include_self: bool = False, preserve_ordering: bool = False
) -> Any:
    """ansible-core's `Group._walk_relationship` (inventory/group.py, 2.19), deterministic.

    Ansible walks a group's descendants level by level, but holds each level in a `set` of
    Group objects, hashed by identity: when two groups of one level (two or more below the
    group walked) both lead to new groups, which comes first changes from run to run, and with
    it the order of `all`'s hosts, of a group's hosts and what `group[0]` picks (seen: case 15
    answered differently under different PYTHONHASHSEEDs). Here a level is walked in the order
    its groups were found (or, with WALK.reverse, the opposite), and WALK.dependent notes that
    the choice mattered. Otherwise the same: a group reached twice in one level is listed twice
    (hosts are deduplicated later). Without `preserve_ordering` (a set), Ansible's own.
    """
    if not preserve_ordering:
        return WALK.original(self, rel, include_self, preserve_ordering)
    ordered: list[Any] = [self] if include_self else []
    ordered.extend(getattr(self, rel))
    level = list(dict.fromkeys(([self] if include_self else []) + list(getattr(self, rel))))
    seen: set[Any] = set()
    while level:
        seen.update(level)
        following: list[Any] = []
        contributing = 0
        for group in reversed(level) if WALK.reverse else level:
            new = [item for item in getattr(group, rel) if item not in seen]
            contributing += bool(new)
            ordered.extend(new)
            following.extend(item for item in getattr(group, rel) if item not in seen)
        if contributing > 1:
            WALK.dependent = True
        level = list(dict.fromkeys(following))
    return ordered


def _decrypted(value: Any) -> Any:
    """A `!vault` value's plain text, or UNDECRYPTABLE."""
    from ansible.parsing.vault import AnsibleVaultError, EncryptedString

    if not isinstance(value, EncryptedString):
        return value
    try:
        return str(value)
    except AnsibleVaultError:
        return dict(UNDECRYPTABLE)


def _is_vault_file(path: str | None) -> bool:
    if not path or not os.path.isfile(path):
        return False
    with open(path, "rb") as stream:
        return stream.read(len(b"$ANSIBLE_VAULT")) == b"$ANSIBLE_VAULT"


# --- the real CLIs, on a few cases ----------------------------------------------------------


def _cli(args: list[str], case: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / args[0]), *args[1:]]
    for source in read_sources(case):
        command += ["-i", str(source)]
    command += ["--vault-password-file", str(VAULT_PASSWORD_FILE)]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=env["ANSIBLE_HOME"], check=False
    )


def _cli_value(value: Any) -> Any:
    """A recorded value as `ansible-inventory --list` prints it (dates as text)."""
    if isinstance(value, dict) and set(value) == {DATE_KEY}:
        return value[DATE_KEY]
    if isinstance(value, dict):
        return {key: _cli_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cli_value(item) for item in value]
    return value


def check_with_cli(case: Path, answer: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """Disagreements between the recorded answer and the CLIs (empty: they agree)."""
    problems: list[str] = []
    listed = _cli(["ansible-inventory", "--list"], case, env)
    if listed.returncode != 0:
        return [f"{case.name}: ansible-inventory failed: {first_line(listed.stderr, case)}"]
    data = json.loads(listed.stdout)
    meta = data.pop("_meta")
    for host in answer["hosts"]:
        shown = meta["hostvars"].get(host, {})
        recorded = answer["hostvars"][host]
        for name in sorted(set(shown) | set(recorded)):
            value = shown.get(name)
            if isinstance(value, dict) and "__ansible_vault" in value:
                if name not in answer["secret"].get(host, []):
                    problems.append(f"{case.name}: {host}.{name} vaulted but not marked secret")
            elif value != _cli_value(recorded.get(name)):
                problems.append(
                    f"{case.name}: {host}.{name}: CLI {value!r}, API {recorded.get(name)!r}"
                )
    for name, group in answer["groups"].items():
        expected = {}  # as the CLI prints a group: no empty lists, no hosts under `all`
        if group["hosts"] and name != "all":
            expected["hosts"] = group["hosts"]
        if group["children"]:
            expected["children"] = group["children"]
        if data.get(name, {}) != expected:
            problems.append(f"{case.name}: group {name}: CLI {data.get(name)!r}, API {expected!r}")
    for pattern in CLI_PATTERNS:
        ran = _cli(["ansible", pattern, "--list-hosts"], case, env)
        recorded = answer["patterns"][pattern]
        listed_hosts = [line.strip() for line in ran.stdout.splitlines()[1:] if line.strip()]
        if ran.returncode != 0 or listed_hosts != recorded.get("hosts", []):
            shown = f"CLI {listed_hosts} (exit {ran.returncode}), API {recorded!r}"
            problems.append(f"{case.name}: {pattern!r}: {shown}")
    return problems


# --- main -----------------------------------------------------------------------------------


def record(out: Path, only: list[str], with_cli: bool) -> int:
    """Write the answers into `out`; return the exit status."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ansible-answers-") as home:
        env = ansible_environ(home)
        os.environ.clear()
        os.environ.update(env)
        os.chdir(home)  # no ./ansible.cfg, nothing written where it would be seen
        reader = Reader()
        patterns = read_patterns()
        chosen = [
            case for case in cases() if not only or case.name in only or case.name[:2] in only
        ]
        answers = {}
        for case in chosen:
            answers[case.name] = reader.read(case, patterns)
            answer_path(case, out).write_text(dump(answers[case.name]), encoding="utf-8")
        print(f"recorded {len(chosen)} inventories x {len(patterns)} patterns into {out}")
        if not with_cli:
            return 0
        problems, checked = [], []
        for case in chosen:
            if case.name[:2] in CLI_CASES and "refused" not in answers[case.name]:
                problems += check_with_cli(case, answers[case.name], env)
                checked.append(case.name)
        (out / CLI_CHECK).write_text(
            dump(
                {
                    "ansible_core": ANSIBLE_SERIES,
                    "cases": checked,
                    "patterns": list(CLI_PATTERNS),
                    "disagreements": problems,
                }
            ),
            encoding="utf-8",
        )
        for problem in problems:
            print(f"CLI disagrees: {problem}", file=sys.stderr)
        disagreeing = {problem.split(":")[0] for problem in problems}
        agreeing = len(checked) - len(disagreeing)
        print(f"the CLIs agree with the API on {agreeing} of {len(checked)} cases")
        return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ANSWERS, help="folder to write answers into")
    parser.add_argument("--no-cli", action="store_true", help="skip the check with the real CLIs")
    parser.add_argument("cases", nargs="*", help="only these cases (names or NN)")
    args = parser.parse_args(argv)
    return record(args.out.resolve(), args.cases, not args.no_cli)


if __name__ == "__main__":
    sys.exit(main())
