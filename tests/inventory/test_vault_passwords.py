"""Vault passwords from files, scripts, prompts, the environment and ansible.cfg (issue 14).

Real files and real `#!/bin/sh` scripts in tmp_path; where ansible-core is installed, its own
`get_file_vault_secret` and `CLI.setup_vault_secrets` read the same sources and must agree.
"""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from remediate.errors import InputError
from remediate.inventory import vault, vault_passwords
from remediate.inventory.config import AnsibleConfig, read_config
from remediate.inventory.vault import VaultPassword
from remediate.inventory.vault_passwords import collect_vault_passwords

SECRET = "s3cret-vault-pässword"


def write(path: Path, text: str | bytes, mode: int = 0o600) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def script(path: Path, body: str) -> Path:
    """An executable shell script; `$LOG` (in its environment) records its arguments."""
    text = "#!/bin/sh\n" + 'printf "%s|" "$#" "$@" >> "$LOG"; echo >> "$LOG"\n'
    return write(path, text + textwrap.dedent(body), 0o755)


def no_prompt(question: str) -> str:
    raise AssertionError(f"asked {question!r} although nothing should prompt")


def collect(
    tmp_path: Path,
    *,
    password_files: Sequence[str] = (),
    vault_ids: Sequence[str] = (),
    ask: bool = False,
    environ: Mapping[str, str] | None = None,
    config: AnsibleConfig | None = None,
    prompt: Callable[[str], str] = no_prompt,
) -> list[VaultPassword]:
    base = {"LOG": str(tmp_path / "calls.log"), "PATH": os.environ.get("PATH", "/bin")}
    return collect_vault_passwords(
        password_files=password_files,
        vault_ids=vault_ids,
        ask=ask,
        environ={**base, **(environ or {})},
        config=config,
        prompt=prompt,
        cwd=tmp_path,
    )


def calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def pairs(passwords: list[VaultPassword]) -> list[tuple[str | bytes, str]]:
    return [(p.vault_id, p.secret) for p in passwords]  # type: ignore[misc]


def error(tmp_path: Path, **options: object) -> InputError:
    with pytest.raises(InputError) as caught:
        collect(tmp_path, **options)  # type: ignore[arg-type]
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value)
    return caught.value


# --- password files ---------------------------------------------------------------------------


def test_a_password_file_is_stripped_of_ascii_whitespace(tmp_path: Path) -> None:
    write(tmp_path / "pw", f"\n  \t{SECRET}\xa0 \r\n\n")
    assert pairs(collect(tmp_path, password_files=["pw"])) == [("default", SECRET + "\xa0")]


def test_a_password_file_that_is_not_utf8_keeps_its_bytes(tmp_path: Path) -> None:
    write(tmp_path / "pw", b"caf\xe9\n")
    (password,) = collect(tmp_path, password_files=["pw"])
    assert isinstance(password.secret, str)
    assert password.secret.encode("utf-8", "surrogateescape") == b"caf\xe9"


@pytest.mark.parametrize(
    ("content", "words"),
    [("", "is empty"), (" \n\t\r\n", "is empty")],
)
def test_an_empty_password_file_is_an_error(tmp_path: Path, content: str, words: str) -> None:
    path = write(tmp_path / "pw", content)
    caught = error(tmp_path, password_files=["pw"])
    assert caught.file == str(path)
    assert words in caught.message
    assert "--vault-password-file" in caught.message


def test_a_missing_password_file_names_the_path_and_where_it_was_given(tmp_path: Path) -> None:
    caught = error(tmp_path, vault_ids=["prod@secrets/missing.txt"])
    assert caught.file == str(tmp_path / "secrets/missing.txt")
    assert "not found" in caught.message
    assert "--vault-id" in caught.message


def test_a_directory_is_not_a_password_file(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    assert "is a directory" in error(tmp_path, password_files=["dir"]).message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_password_file_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "pw", SECRET, 0o000)
    assert "cannot read" in error(tmp_path, password_files=["pw"]).message


def test_an_oversized_password_file_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "pw", "x" * (vault_passwords.MAX_PASSWORD_FILE_BYTES + 1))
    assert "right file" in error(tmp_path, password_files=["pw"]).message


def test_a_vault_encrypted_password_file_opens_with_an_earlier_password(tmp_path: Path) -> None:
    write(tmp_path / "outer", "outer-pw\n")
    write(tmp_path / "inner", vault.encrypt(SECRET + "\n", "outer-pw", salt=b"s" * 32))
    found = collect(tmp_path, vault_ids=["outer@outer", "prod@inner"])
    assert pairs(found) == [("outer", "outer-pw"), ("prod", SECRET)]
    caught = error(tmp_path, vault_ids=["prod@inner"])
    assert "itself vault-encrypted" in caught.message
    assert caught.file == str(tmp_path / "inner")


def test_a_quoted_path_hints_at_the_quotes(tmp_path: Path) -> None:
    caught = error(tmp_path, password_files=['"pw"'])
    assert "quotes" in (caught.hint or "")


# --- scripts ----------------------------------------------------------------------------------


def test_a_script_s_stdout_is_the_password_stripped_of_newlines_only(tmp_path: Path) -> None:
    script(tmp_path / "get-pw.sh", f"printf '  {SECRET} \\r\\n'\n")
    assert pairs(collect(tmp_path, password_files=["get-pw.sh"])) == [("default", f"  {SECRET} ")]
    assert calls(tmp_path) == ["0|"]  # no arguments


def test_a_client_script_is_given_the_label(tmp_path: Path) -> None:
    script(tmp_path / "vault-client.py", 'echo "pw-for-$2"\n')
    found = collect(
        tmp_path,
        vault_ids=["prod@vault-client.py", "dev@vault-client.py", "vault-client.py"],
        password_files=["vault-client.py"],
    )
    assert pairs(found) == [
        ("prod", "pw-for-prod"),
        ("dev", "pw-for-dev"),
        ("default", "pw-for-"),
        ("default", "pw-for-default"),
    ]
    assert calls(tmp_path) == [
        "2|--vault-id|prod|",
        "2|--vault-id|dev|",
        "0|",
        "2|--vault-id|default|",
    ]


@pytest.mark.parametrize("name", ["keys-client", "keys-client.sh", "keys-client.d.py"])
def test_client_is_read_from_the_name_before_its_extension(tmp_path: Path, name: str) -> None:
    script(tmp_path / name, 'echo "pw"\n')
    collect(tmp_path, vault_ids=[f"x@{name}"])
    expected = "0|" if name == "keys-client.d.py" else "2|--vault-id|x|"
    assert calls(tmp_path) == [expected]


def test_a_failing_script_shows_its_last_error_line_never_its_stdout(tmp_path: Path) -> None:
    path = script(
        tmp_path / "pw-client.sh",
        f"echo {SECRET}\necho 'first problem' >&2\necho 'token expired' >&2\nexit 1\n",
    )
    caught = error(tmp_path, vault_ids=["prod@pw-client.sh"])
    assert caught.file == str(path)
    assert caught.message.endswith("exited with code 1: token expired")


def test_a_client_without_the_secret_says_which_vault_id(tmp_path: Path) -> None:
    script(tmp_path / "pw-client", "echo 'no such id' >&2\nexit 2\n")
    caught = error(tmp_path, vault_ids=["prod@pw-client"])
    assert "no secret for vault id 'prod': no such id" in caught.message


def test_a_plain_script_s_stderr_goes_to_the_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    script(tmp_path / "pw.sh", f"echo {SECRET}\necho 'Password for vault:' >&2\nexit 3\n")
    caught = error(tmp_path, password_files=["pw.sh"])
    assert "exited with code 3 (what it said, if anything, is above)" in caught.message
    out, err = capfd.readouterr()
    assert "Password for vault:" in err
    assert SECRET not in out + err


def test_a_script_printing_nothing_is_an_error(tmp_path: Path) -> None:
    script(tmp_path / "pw.sh", "printf '\\r\\n\\n'\n")
    assert "printed no password" in error(tmp_path, password_files=["pw.sh"]).message


def test_an_executable_that_cannot_run_hints_at_chmod(tmp_path: Path) -> None:
    write(tmp_path / "pw", SECRET, 0o755)  # an executable bit on a plain password file
    caught = error(tmp_path, password_files=["pw"])
    assert "cannot run" in caught.message
    assert "chmod -x" in (caught.hint or "")


def test_a_script_that_hangs_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vault_passwords, "SCRIPT_TIMEOUT", 0.5)
    script(tmp_path / "pw.sh", "sleep 30\necho late\n")
    start = time.monotonic()
    caught = error(tmp_path, password_files=["pw.sh"])
    assert "did not finish within 0.5 s" in caught.message
    assert time.monotonic() - start < 10


def test_a_script_gets_the_given_environment_and_no_shell(tmp_path: Path) -> None:
    script(tmp_path / "pw.sh", 'echo "$VAULT_TEAM"\n')
    found = collect(tmp_path, vault_ids=["x@pw.sh"], environ={"VAULT_TEAM": "ops"})
    assert pairs(found) == [("x", "ops")]
    caught = error(tmp_path, vault_ids=["x@pw.sh; touch hacked"])
    assert "not found" in caught.message
    assert not (tmp_path / "hacked").exists()


# --- prompts ----------------------------------------------------------------------------------


class Prompter:
    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.questions: list[str] = []

    def __call__(self, question: str) -> str:
        self.questions.append(question)
        answer = self.answers.pop(0)
        if answer == "EOF":
            raise EOFError
        return answer


def test_prompts_ask_as_ansible_asks(tmp_path: Path) -> None:
    prompter = Prompter(f"  {SECRET}\n", "other", "third")
    found = collect(tmp_path, vault_ids=["prod@prompt", "prompt"], ask=True, prompt=prompter)
    assert prompter.questions == [
        "Vault password (prod): ",
        "Vault password (default): ",
        "Vault password: ",
    ]
    assert pairs(found) == [("prod", SECRET), ("default", "other"), ("default", "third")]


def test_the_same_prompt_is_asked_once(tmp_path: Path) -> None:
    prompter = Prompter("a", "b")
    collect(tmp_path, vault_ids=["prod@prompt", "prod@prompt", "@prompt"], prompt=prompter)
    assert prompter.questions == ["Vault password (prod): ", "Vault password (default): "]


@pytest.mark.parametrize(("answer", "words"), [("EOF", "end of input"), (" \t", "is empty")])
def test_no_password_at_the_prompt_is_an_error(tmp_path: Path, answer: str, words: str) -> None:
    caught = error(tmp_path, ask=True, prompt=Prompter(answer))
    assert words in caught.message


# --- order, environment, ansible.cfg ----------------------------------------------------------


def test_the_order_of_sources_is_ansible_s(tmp_path: Path) -> None:
    for name in ("env-id", "cfg-id", "cli-id", "cli-file", "env-file", "cfg-file"):
        write(tmp_path / name, f"pw-{name}\n")
    config = AnsibleConfig(
        tmp_path / "ansible.cfg",
        vault_password_file=str(tmp_path / "cfg-file"),
        vault_identity_list=("cfg@cfg-id",),
    )
    environ = {
        "ANSIBLE_VAULT_IDENTITY_LIST": "env@env-id",
        "ANSIBLE_VAULT_PASSWORD_FILE": "env-file",
    }
    found = collect(
        tmp_path,
        password_files=["cli-file"],
        vault_ids=["cli@cli-id"],
        ask=True,
        environ=environ,
        config=config,
        prompt=Prompter("typed"),
    )
    assert pairs(found) == [
        ("env", "pw-env-id"),
        ("cli", "pw-cli-id"),
        ("default", "pw-cli-file"),
        ("default", "pw-env-file"),
        ("default", "typed"),
    ]
    without_env = collect(tmp_path, config=config)
    assert pairs(without_env) == [("cfg", "pw-cfg-id"), ("default", "pw-cfg-file")]
    empty_env = {"ANSIBLE_VAULT_IDENTITY_LIST": "", "ANSIBLE_VAULT_PASSWORD_FILE": ""}
    assert collect(tmp_path, config=config, environ=empty_env) == without_env


def test_config_paths_are_relative_to_the_config_and_its_ids_to_cwd(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    write(project / "pw.txt", "from-config-dir")
    write(tmp_path / "id.txt", "from-cwd")
    (project / "ansible.cfg").write_text(
        "[defaults]\nvault_password_file = pw.txt\nvault_identity_list = prod@id.txt\n"
    )
    config = read_config(project / "ansible.cfg", environ={}, cwd=tmp_path)
    found = collect(tmp_path, config=config)
    assert pairs(found) == [("prod", "from-cwd"), ("default", "from-config-dir")]


def test_the_environment_s_paths_expand_home_variables_and_cwd(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    write(home / ".vault_pass", "from-home")
    write(tmp_path / "team.pw", "from-team")
    environ = {
        "HOME": str(home),
        "TEAMDIR": str(tmp_path),
        "ANSIBLE_VAULT_IDENTITY_LIST": "'home@~/.vault_pass', team@$TEAMDIR/team.pw",
        "ANSIBLE_VAULT_PASSWORD_FILE": "{{CWD}}/team.pw",
    }
    found = collect(tmp_path, environ=environ)
    assert pairs(found) == [("home", "from-home"), ("team", "from-team"), ("default", "from-team")]


def test_a_source_given_twice_is_read_once(tmp_path: Path) -> None:
    script(tmp_path / "pw.sh", "echo same\n")
    found = collect(
        tmp_path,
        password_files=["pw.sh", "./pw.sh"],
        environ={"ANSIBLE_VAULT_PASSWORD_FILE": str(tmp_path / "pw.sh")},
    )
    assert pairs(found) == [("default", "same")]
    assert len(calls(tmp_path)) == 1


def test_a_vault_id_without_a_source_is_an_error(tmp_path: Path) -> None:
    assert "no source" in error(tmp_path, vault_ids=["prod@"]).message
    assert "no source" in error(tmp_path, vault_ids=[""]).message


def test_nothing_given_is_no_password(tmp_path: Path) -> None:
    assert collect(tmp_path) == []


def test_passwords_never_show_in_repr_or_str(tmp_path: Path) -> None:
    write(tmp_path / "pw", SECRET)
    found = collect(tmp_path, password_files=["pw"])
    assert found[0].secret == SECRET
    for text in (repr(found), str(found), repr(found[0]), str(found[0])):
        assert SECRET not in text


def test_the_passwords_open_what_ansible_vault_encrypted(tmp_path: Path) -> None:
    """The vectors' password files, read as sources, open the vectors ansible-vault wrote."""
    vectors = Path(__file__).parent / "vault_vectors"
    found = collect(
        tmp_path,
        vault_ids=[f"prod@{vectors / 'pw-prod'}", f"ops-team@{vectors / 'pw-utf8'}"],
        password_files=[str(vectors / "pw-default")],
    )
    plain = (vectors / "vars.yml").read_bytes()
    for name in ("file-1.1.yml", "file-1.2.yml", "file-1.2-utf8.yml"):
        assert vault.decrypt_file(vectors / name, found) == plain


# --- against ansible-core -------------------------------------------------------------------


def _ansible_secret(path: Path, vault_id: str | None) -> bytes:
    parsing = pytest.importorskip("ansible.parsing.vault")
    dataloader = pytest.importorskip("ansible.parsing.dataloader")
    secret = parsing.get_file_vault_secret(
        filename=str(path), vault_id=vault_id, loader=dataloader.DataLoader()
    )
    secret.load()
    return secret.bytes


SOURCES: dict[str, tuple[str, str | bytes, int]] = {
    "file with spaces": ("pw", f"  {SECRET} \t\n\r\n", 0o600),
    "file with a non-breaking space": ("pw", f"{SECRET}\xa0\n", 0o600),
    "file of latin-1 bytes": ("pw", b"\tcaf\xe9 \n", 0o600),
    "script with spaces": ("pw.sh", f"#!/bin/sh\nprintf '  {SECRET} \\r\\n'\n", 0o755),
    "client script": ("pw-client.sh", '#!/bin/sh\necho "$1 $2"\n', 0o755),
    "group-executable script": ("pw.sh", "#!/bin/sh\necho group\n", 0o710),
}


@pytest.mark.parametrize("name", SOURCES)
def test_sources_read_as_ansible_reads_them(tmp_path: Path, name: str) -> None:
    filename, content, mode = SOURCES[name]
    path = write(tmp_path / filename, content, mode)
    theirs = _ansible_secret(path, "prod")
    (ours,) = collect(tmp_path, vault_ids=[f"prod@{filename}"])
    assert isinstance(ours.secret, str)
    assert ours.secret.encode("utf-8", "surrogateescape") == theirs


def test_the_order_agrees_with_ansible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = pytest.importorskip("ansible.cli")
    constants = pytest.importorskip("ansible.constants")
    dataloader = pytest.importorskip("ansible.parsing.dataloader")
    for name in ("a", "b", "c", "d"):
        write(tmp_path / name, f"pw-{name}")
    script(tmp_path / "k-client", 'echo "client $2"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(constants, "DEFAULT_VAULT_PASSWORD_FILE", str(tmp_path / "d"))
    vault_ids = ["x@a", "y@k-client", "b"]
    files = [str(tmp_path / "c"), str(tmp_path / "k-client")]
    theirs = cli.CLI.setup_vault_secrets(
        dataloader.DataLoader(),
        vault_ids=list(vault_ids),
        vault_password_files=list(files),
        auto_prompt=False,
        initialize_context=False,
    )
    config = AnsibleConfig(tmp_path / "ansible.cfg", vault_password_file=str(tmp_path / "d"))
    ours = collect(tmp_path, vault_ids=vault_ids, password_files=files, config=config)
    assert [(label, secret.bytes.decode()) for label, secret in theirs] == pairs(ours)
