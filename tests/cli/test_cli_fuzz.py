"""Fuzzing the command line's argument parsing: whatever the arguments, one of our exit codes and
a clear message, never a traceback, and never a host contacted.

The app runs in-process through `remediate.cli.main` (the console entry point, where a
RemediateError becomes an `error:` line), in a scratch folder: the inventories given to the
commands that connect hold no host, every path a command may write to lies in that folder or
cannot be written, and any network connection or name lookup fails the test.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from remediate import cli
from remediate.errors import ExitCode
from tests.conftest import ROOT

EXIT_CODES = {int(code) for code in ExitCode}

# Commands fuzzed in full. Others (`lab up`, `demo`: they start the lab and run until Ctrl-C)
# get only --help and unknown options, which stop in parsing.
DEEP = {
    ("audit",), ("collect",), ("plan",), ("approve",), ("apply",), ("journal",),
    ("inventory",), ("report",), ("version",), ("history",), ("history", "prune"),
    ("playbook", "lint"), ("playbook", "show"), ("kb", "import"),
}  # fmt: skip
SHALLOW = {("lab", "up"), ("demo",)}


# --- the scratch folder ---------------------------------------------------------------------

HOSTS = "[exchange]\nex1 ansible_host=192.0.2.1\nex2 ansible_host=192.0.2.2\n[web]\nweb1\n"
ARTICLE = "Q232602: XFOR: Event ID 4284. Applies to Microsoft Exchange Server 5.5.\n"


def _scratch(folder: Path) -> None:
    shutil.copytree(ROOT / "playbooks", folder / "playbooks")
    (folder / "hosts.ini").write_text(HOSTS)  # only `inventory` (which connects to nothing)
    (folder / "none.ini").write_text("# no hosts\n[exchange]\n[exchange:vars]\nx=1\n")
    (folder / "bad.ini").write_bytes(b"[exch\xff\nhost ansible_port=\x00\n[a:children]\na\n")
    (folder / "empty.ini").write_text("")
    (folder / "retry.txt").write_text("ex1\nnope\n")
    (folder / "plan.json").write_text('{"format": 1, "steps": [}')
    (folder / "plan-empty.json").write_text("{}")
    (folder / "waivers.yml").write_text("")
    (folder / "article.txt").write_text(ARTICLE)
    (folder / "signers").write_text("alice ssh-ed25519 AAAA\n")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("cli-fuzz")
    _scratch(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for name in ("REMEDIATE_DEBUG", "SSH_AUTH_SOCK", "REMEDIATE_ALLOWED_SIGNERS"):
            patch.delenv(name, raising=False)
        patch.setenv("HOME", str(folder))  # no ~/.ssh keys of whoever runs the tests
        yield folder


# --- no host contacted -----------------------------------------------------------------------

contacts: list[str] = []


@contextmanager
def no_network() -> Iterator[None]:
    """Any TCP/UDP connection or name lookup is recorded and refused."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            contacts.append(f"connect {address!r}")
            raise OSError("the CLI fuzz test allows no network")
        return real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            contacts.append(f"connect_ex {address!r}")
            return 101  # ENETUNREACH
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        contacts.append(f"getaddrinfo {host!r}")
        raise socket.gaierror("the CLI fuzz test allows no name lookups")

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo


# --- running the entry point -----------------------------------------------------------------


@dataclass
class Run:
    args: list[str]
    code: int
    stdout: str
    stderr: str


def run(args: list[str]) -> Run:
    """`remediate ARGS` through the console entry point, its output captured; an exception
    escaping `main()` is the traceback a user would see, and fails the test as it is."""
    old_argv = sys.argv
    sys.argv = ["remediate", *args]
    code: int
    try:
        with CliRunner().isolation(input="") as (out, err, _), no_network():
            try:
                cli.main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
            stdout = out.getvalue().decode("utf-8", "replace")
            stderr = err.getvalue().decode("utf-8", "replace")
    finally:
        sys.argv = old_argv
    return Run(args, code, stdout, stderr)


def check(result: Run) -> None:
    where = f"remediate {result.args!r} -> {result.code}\n{result.stdout}\n{result.stderr}"
    assert result.code in EXIT_CODES, where
    for text in (result.stdout, result.stderr):
        assert "Traceback (most recent call last)" not in text, where
    if result.code == ExitCode.USAGE:
        assert result.stderr.strip(), where  # bad usage is explained, not just a number
    assert not contacts, f"{where}\ncontacted: {contacts}"


# --- what the arguments are made of ----------------------------------------------------------

# Text as a command line can carry it: no NUL (execve cannot pass one), but any other character,
# including the lone surrogates Python makes of argv bytes that are not UTF-8.
CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
WILD = st.one_of(
    st.text(CHARS, max_size=30),
    st.text(
        st.one_of(CHARS, st.sampled_from(["\udcff", "\udc80", "\u202e", "\ufeff"])), max_size=8
    ),
    st.sampled_from(["", " ", "-", "--", "-1", "0", "nan", "inf", "1e400", "\t", "é" * 200]),
    st.integers(250, 5_000).map(lambda n: "x" * n),  # past NAME_MAX
)


def _sandboxed(text: str) -> str:
    """Random text as a path: never absolute nor climbing out of the scratch folder, never an
    option (a `-o/` would be `--output /`)."""
    if text.startswith(("/", "~", "-")) or ".." in text:
        return "x" + text.replace("..", "_")
    return text


SAFE_WILD = WILD.map(_sandboxed)

READ_PATHS = st.one_of(
    st.sampled_from(
        [
            "missing.ini",
            "none.ini",
            "bad.ini",
            "empty.ini",
            ".",
            "playbooks",
            "retry.txt",
            "plan.json",
            "plan-empty.json",
            "waivers.yml",
            "article.txt",
            "signers",
            "/dev/null",
            "/proc/nonexistent",
            "/proc/self/mem",
            "hosts.ini/x",
            "",
            "playbooks/Q232602.yml",
        ]
    ),
    SAFE_WILD,
)
WRITE_PATHS = st.one_of(
    st.sampled_from(
        [
            "out",
            "out/sub/deeper",
            "hosts.ini",
            "hosts.ini/under-a-file",
            "/proc/x/out",
            "/dev/full",
            "/dev/full/x",
            "/dev/null",
            "",
            ".",
            "playbooks",
            "out.sqlite",
            "none.ini",
            "new plan.json",
        ]
    ),
    SAFE_WILD,
)
DURATIONS = st.one_of(
    st.sampled_from(
        [
            "7d",
            "0s",
            "12H",
            " 7d ",
            "7 d",
            "-1d",
            "1.5d",
            "\u0663d",
            "999999999d",
            "99999999999d",
            "36500d",
            "36501d",
            "1" * 5000 + "d",
            "d",
            "7",
            "7y",
            "",
        ]
    ),
    st.builds(lambda n, u: f"{n}{u}", st.integers(-5, 10**30), st.sampled_from("smhdwSx")),
    WILD,
)
PATTERN_PIECES = [
    "all", "*", "ex*", "ex1", "web1", "exchange", "web", "~^ex.*$", "~(a+)+$", "~[", "~",
    "!web", "&exchange", "!", "&", "@retry.txt", "@missing.txt", "@", "ex[0:1]", "ex[5]",
    "exchange[0]", "exchange[1:]", "exchange[-1]", "exchange[a:b]", "[", "]", "", "*" * 50,
    "?", "ex?", "192.0.2.*", "\u00e9x*",
]  # fmt: skip
LIMITS = st.one_of(
    st.lists(st.one_of(st.sampled_from(PATTERN_PIECES), WILD), min_size=1, max_size=5).flatmap(
        lambda parts: st.sampled_from([":", ",", ", "]).map(lambda sep: sep.join(parts))
    ),
    st.integers(1, 20_000).map(lambda n: "a" * n + "!"),  # a long pattern that matches nothing
    st.integers(1, 2_000).map(lambda n: ":".join(["ex*"] * n)),
)
INTS = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["0", "-1", "1", "1000", "1001", "65536", "1e3", "0x10", " 5", "", "\u0661"]),
    WILD,
)
FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["0", "0.05", "-1", "100", "100.0001", "8784", "8785", "nan", "-inf", "1e400"]),
    INTS,
)
FORMATS = st.one_of(
    st.lists(st.sampled_from(["html", "json", "junit", "csv", "", "xml", "HTML", " json"])).map(
        ",".join
    ),
    WILD,
)
IDS = st.one_of(st.sampled_from(["KB840469", "Q232602", "q232602", "KB0", "", "../x"]), WILD)

# Value kinds by option name (the name click gives the parameter); anything not named here is
# fuzzed as a path that stays in the scratch folder, which is also good text.
KINDS: dict[str, st.SearchStrategy[str]] = {
    "limit": LIMITS,
    "since": DURATIONS,
    "keep": DURATIONS,
    "step_timeout": DURATIONS,
    "forks": INTS,
    "admin_port": INTS,
    "timeout": FLOATS,
    "reboot_timeout": FLOATS,
    "fail_percent": FLOATS,
    "valid_hours": FLOATS,
    "approvals": INTS,
    "report_format": FORMATS,
    "format": FORMATS,
    "playbook": IDS,
    "playbook_id": IDS,
    "run_id": st.one_of(INTS, IDS),
    "article_id": IDS,
    "id": IDS,
    "comment": WILD,
    "by": WILD,
    "signer": WILD,
    "inventory": READ_PATHS,
    # -i and the vault options read files: random text with a comma would be a host list
    # (and contacted), a random executable a vault script (and run).
    "sources": READ_PATHS,
    "vault_password_file": READ_PATHS,
    "vault_id": st.one_of(READ_PATHS, READ_PATHS.map(lambda path: f"fuzz@{path}")),
    "output": WRITE_PATHS,
    "history": WRITE_PATHS,
    "write_inventory": WRITE_PATHS,
    "state_dir": WRITE_PATHS,
}


@dataclass(frozen=True)
class Param:
    name: str
    opts: tuple[str, ...]  # empty for a positional argument
    flag: bool
    many: bool  # nargs=-1 arguments


GROUPS: set[tuple[str, ...]] = set()


def _commands() -> dict[tuple[str, ...], list[Param]]:
    """Every command and group of the assembled app with its parameters (a group's own
    options, such as `history --limit`, included)."""
    found: dict[tuple[str, ...], list[Param]] = {}

    def walk(command: object, path: tuple[str, ...]) -> None:
        for name, sub in (getattr(command, "commands", None) or {}).items():
            GROUPS.add(path)
            walk(sub, (*path, name))
        params = []
        for param in command.params:  # type: ignore[attr-defined]
            opts = tuple(param.opts) + tuple(param.secondary_opts)
            positional = param.param_type_name == "argument"
            params.append(
                Param(
                    param.name,
                    () if positional else opts,
                    bool(getattr(param, "is_flag", False)),
                    positional and param.nargs == -1,
                )
            )
        found[path] = params

    walk(typer.main.get_command(cli.app), ())
    return found


COMMANDS = _commands()


def test_the_fuzzer_knows_every_command() -> None:
    """A new command is sorted into DEEP or SHALLOW here before it is fuzzed (a command that
    starts servers or runs forever must not be fuzzed in full)."""
    leaves = set(COMMANDS) - GROUPS
    assert leaves <= DEEP | SHALLOW, leaves - DEEP - SHALLOW
    assert ("audit",) in leaves and ("history",) in GROUPS


def _value(param: Param, command: tuple[str, ...]) -> st.SearchStrategy[str]:
    if param.name == "inventory" and command == ("inventory",):
        return st.one_of(st.just("hosts.ini"), READ_PATHS)  # lists hosts, contacts none
    if param.name in ("plan_file", "articles", "fleet", "waivers", "key", "approvers"):
        return READ_PATHS
    if param.name == "playbooks":
        return READ_PATHS
    return KINDS.get(param.name, SAFE_WILD)


@st.composite
def deep_arguments(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(sorted(DEEP)))
    params = COMMANDS[command]
    args: list[str] = list(command)
    if command == ("kb", "import"):
        args += ["-o", "drafts"]  # by default it writes into ./playbooks, which others read
    options = [p for p in params if p.opts]
    positionals = [p for p in params if not p.opts]
    chosen = draw(st.lists(st.sampled_from(options), max_size=6)) if options else []
    pieces: list[list[str]] = []
    for param in chosen:
        opt = draw(st.sampled_from(param.opts))
        pieces.append([opt] if param.flag else [opt, draw(_value(param, command))])
    for param in positionals:
        if draw(st.integers(0, 9)) == 0:
            continue  # a missing argument
        count = draw(st.integers(1, 3)) if param.many else 1
        # A positional that starts with "-" would be read as options (`-o/` is `--output /`).
        pieces += [[_sandboxed(draw(_value(param, command)))] for _ in range(count)]
    if draw(st.integers(0, 5)) == 0:  # something that is no option of this command
        pieces.append([draw(st.sampled_from(["--nope", "-Z", "--limit=", "--=", "---x"]))])
    if options and draw(st.integers(0, 7)) == 0:  # an option's value missing at the end
        pieces.append([draw(st.sampled_from(draw(st.sampled_from(options)).opts))])
    order = draw(st.permutations(range(len(pieces))))
    for index in order:
        args += pieces[index]
    return args


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(deep_arguments())
def test_fuzz_every_command(scratch: Path, args: list[str]) -> None:
    check(run(args))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LIMITS)
def test_fuzz_limit_patterns(scratch: Path, pattern: str) -> None:
    """`--limit` reaches the pattern reader only with an inventory that has hosts."""
    check(run(["inventory", "hosts.ini", "--limit", pattern]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(SHALLOW | {("lab",), ("kb",), ("history",), ("playbook",), ()})),
    st.sampled_from(["--help", "--nope", "-Z", "--fleet", "--ports", "--admin-port"]),
    st.sampled_from(["", "x", "99999999", "-1"]),
)
def test_fuzz_commands_that_start_the_lab_only_in_parsing(
    scratch: Path, command: tuple[str, ...], option: str, value: str
) -> None:
    if option in ("--fleet", "--ports", "--admin-port"):
        args = [*command, option]  # the value missing: parsing stops before anything starts
    else:
        args = [*command, option, *([value] if option != "--help" else [])]
    check(run(args))


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "none.ini", "--since", "99999999999d"],  # OverflowError in timedelta
        ["audit", "none.ini", "--since", "1" * 5000 + "d"],  # more digits than int() reads
        ["history", "prune", "--keep", "999999999d"],  # now - keep before year 1
        ["history", "prune", "--keep", "1000000000w"],
        ["apply", "plan.json", "--step-timeout", "99999999999d"],
        ["collect", "none.ini", "--since", "999999999d"],
    ],
)
def test_durations_too_long_for_a_date_are_usage_errors(scratch: Path, args: list[str]) -> None:
    result = run(args)
    check(result)
    assert result.code == ExitCode.USAGE and "error:" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["journal", "."],  # ValueError: PosixPath('.') has an empty name
        ["journal", ""],
        ["history", "--history", "x" * 300],  # OSError: File name too long, from exists()
        ["history", "prune", "--history", "x" * 300],
        ["history", "prune", "--history", "hosts.ini/x"],  # FileExistsError making its folder
        ["report", "0", "--history", "x" * 300],  # OSError: File name too long, from is_file()
        ["playbook", "lint", "x" * 300],  # the same, from is_dir() (fixed in 1a9c5dc)
    ],
)
def test_paths_found_by_the_fuzzer_are_usage_errors(scratch: Path, args: list[str]) -> None:
    result = run(args)
    check(result)
    assert result.code == ExitCode.USAGE and "error:" in result.stderr


def test_a_path_that_is_not_utf8_is_printed_escaped(scratch: Path) -> None:
    """argv bytes that are not UTF-8 arrive as lone surrogates; a UTF-8 locale's stdout is
    'strict' (as the runner's is) and raised UnicodeEncodeError printing them."""
    result = run(["journal", "\udcff.plan"])
    check(result)
    assert result.code == 0 and "\\udcff.plan" in result.stdout


def test_every_command_has_help(scratch: Path) -> None:
    for path in COMMANDS:
        result = run([*path, "--help"])
        check(result)
        assert result.code == 0 and "Usage" in result.stdout, result


def test_the_guard_sees_a_connection(scratch: Path) -> None:
    """The network guard works: a test that would let a host be contacted can fail."""
    with no_network():
        probe = socket.socket()
        try:
            with pytest.raises(OSError, match="no network"):
                probe.connect(("192.0.2.1", 5985))
        finally:
            probe.close()
    assert contacts == ["connect ('192.0.2.1', 5985)"]
    contacts.clear()


def test_the_scratch_folder_holds_what_the_commands_read(scratch: Path) -> None:
    assert Path.cwd() == scratch and (scratch / "playbooks").is_dir()
    assert os.environ.get("REMEDIATE_DEBUG") is None
