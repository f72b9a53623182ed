"""Ansible Vault reader: ansible-vault's own output decrypts; anything else is a clear error.

The vectors in vault_vectors/ were written by ansible-core's `ansible-vault` (see its README).
"""

from __future__ import annotations

import binascii
import hmac
import time
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remediate.errors import InputError
from remediate.inventory import vault
from remediate.inventory.vault import VaultedValue, VaultPassword

VECTORS = Path(__file__).parent / "vault_vectors"
DEFAULT = "correct horse battery staple"
PROD = "Pr0d-vault-pässwörd;$x"
OPS = "ünïcode ✓"
PLAIN = (VECTORS / "vars.yml").read_bytes()


def password(name: str) -> str:
    text = (VECTORS / name).read_text(encoding="utf-8")
    return text.rstrip("\r\n")  # as ansible-vault reads a password file


class VaultLoader(yaml.SafeLoader):
    """What a YAML inventory reader (issue 14) does: register the `!vault` constructor."""


VaultLoader.add_constructor("!vault", vault.vault_constructor)


def load_values(path: Path) -> dict[str, VaultedValue]:
    with path.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=VaultLoader)  # noqa: S506 (a SafeLoader subclass)


def error_of(data: str | bytes, passwords: vault.Passwords = DEFAULT, **where: object) -> str:
    with pytest.raises(InputError) as caught:
        vault.decrypt(data, passwords, **where)  # type: ignore[arg-type]
    return str(caught.value)


def test_the_password_files_hold_the_passwords_the_tests_use() -> None:
    names = ["pw-default", "pw-prod", "pw-utf8"]
    assert [password(name) for name in names] == [DEFAULT, PROD, OPS]


@pytest.mark.parametrize(
    ("name", "passwords"),
    [
        ("file-1.1.yml", DEFAULT),
        ("file-1.2.yml", VaultPassword(PROD, "prod")),
        ("file-1.2-utf8.yml", VaultPassword(OPS, "ops-team")),
        # Ansible tries the password of the envelope's vault id first, then the others.
        ("file-1.2.yml", [VaultPassword(DEFAULT), VaultPassword(PROD, "prod")]),
        ("file-1.2.yml", [VaultPassword(PROD, "other-label")]),
        ("file-1.1.yml", [VaultPassword(PROD, "prod"), VaultPassword(DEFAULT, "dev")]),
    ],
)
def test_ansible_vault_files_decrypt(name: str, passwords: vault.Passwords) -> None:
    path = VECTORS / name
    assert vault.is_vault(path.read_bytes())
    assert vault.decrypt_file(path, passwords) == PLAIN


def test_the_header_gives_version_and_vault_id() -> None:
    one = vault.parse((VECTORS / "file-1.1.yml").read_text())
    two = vault.parse((VECTORS / "file-1.2.yml").read_text())
    assert (one.version, one.vault_id, len(one.salt), len(one.hmac)) == ("1.1", None, 32, 32)
    assert (two.version, two.vault_id) == ("1.2", "prod")


def test_vault_tagged_values_decrypt_and_keep_their_place() -> None:
    one = load_values(VECTORS / "string-1.1.yml")["ansible_password"]
    two = load_values(VECTORS / "string-1.2.yml")["ansible_become_password"]
    assert one.decrypt(DEFAULT) == "S3cret-#Not'Shown$(x)"
    assert two.decrypt([VaultPassword(PROD, "prod")]) == "Ünïcode ✓ value"
    assert (two.file, two.line, two.vault_id) == (str(VECTORS / "string-1.2.yml"), 1, "prod")
    assert "S3cret" not in repr(one) + str(one) and "ANSIBLE_VAULT" not in repr(one)


def test_a_vault_value_deeper_in_a_file_names_its_line(tmp_path: Path) -> None:
    snippet = (VECTORS / "string-1.2.yml").read_text().replace("\n", "\n  ")
    path = tmp_path / "host_vars.yml"
    path.write_text(f"# vars\nansible_user: admin\nbecome:\n  {snippet}\n")
    value = load_values(path)["become"]["ansible_become_password"]  # type: ignore[index]
    with pytest.raises(InputError) as caught:
        value.decrypt("wrong password")
    text = str(caught.value)
    assert text.startswith(f"{path}:4: vault value: wrong vault password (vault id 'prod'")
    assert "wrong password" not in text.split("(hint")[0].replace("wrong vault password", "")


def test_wrong_password_names_file_and_vault_id() -> None:
    path = VECTORS / "file-1.2.yml"
    with pytest.raises(InputError) as caught:
        vault.decrypt_file(path, [VaultPassword("nope", "prod"), VaultPassword("no", "dev")])
    text = str(caught.value)
    assert text.startswith(f"{path}: vault data: wrong vault password (vault id 'prod';")
    assert "tried 'prod', 'dev'" in text and "HMAC" in text
    assert "nope" not in text and "ansible_password" not in text
    assert caught.value.file == str(path)
    old = error_of((VECTORS / "file-1.1.yml").read_text(), "nope", file="group_vars/all.yml")
    assert old.startswith("group_vars/all.yml: vault data: wrong vault password (format 1.1")


def test_no_password_and_empty_password_are_clear() -> None:
    data = (VECTORS / "file-1.1.yml").read_text()
    assert "no vault password was given" in error_of(data, [])
    assert "password for vault id 'default' is empty" in error_of(data, "")
    assert "is not valid text" in error_of(data, "\ud800")


def _envelope(ciphertext: bytes, password: str, salt: bytes = b"s" * 32) -> str:
    """An envelope whose HMAC is right for `ciphertext` (already encrypted)."""
    _, hmac_key, _ = vault._keys(password.encode(), salt)
    mac = hmac.new(hmac_key, ciphertext, "sha256").digest()
    inner = b"\n".join(binascii.hexlify(p) for p in (salt, mac, ciphertext))
    return "$ANSIBLE_VAULT;1.1;AES256\n" + binascii.hexlify(inner).decode() + "\n"


def test_bad_padding_behind_a_valid_hmac_is_clear() -> None:
    salt = b"s" * 32
    aes_key, _, counter = vault._keys(b"pw", salt)
    encryptor = Cipher(algorithms.AES(aes_key), modes.CTR(counter)).encryptor()
    unpadded = encryptor.update(b"sixteen bytes!!!") + encryptor.finalize()  # pad byte 0x21
    text = error_of(_envelope(unpadded, "pw", salt), "pw", file="v.yml")
    assert text.startswith("v.yml: vault data: vault id 'default': the decrypted data has bad pad")


def test_decrypted_bytes_that_are_not_text() -> None:
    with pytest.raises(InputError, match="not UTF-8 text"):
        vault.decrypt_text(vault.encrypt(b"\xff\xfe", "pw"), "pw", file="x.yml", line=3)
    assert vault.decrypt(vault.encrypt(b"\xff\xfe", "pw", vault_id="a"), "pw") == b"\xff\xfe"


GOOD = (VECTORS / "file-1.1.yml").read_text()
LINES = GOOD.splitlines()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "does not start with '$ANSIBLE_VAULT'"),
        ("ansible_password: x\n", "does not start with '$ANSIBLE_VAULT'"),
        ("$ANSIBLE_VAULT\n" + "\n".join(LINES[1:]), "header '$ANSIBLE_VAULT' is not"),
        ("$ANSIBLE_VAULT;1.1\n" + "\n".join(LINES[1:]), "is not '$ANSIBLE_VAULT;1.1;AES256'"),
        ("$ANSIBLE_VAULT;1.0;AES\n" + "\n".join(LINES[1:]), "format version '1.0' is not one"),
        ("$ANSIBLE_VAULT;1.1;AES128\n" + "\n".join(LINES[1:]), "cipher 'AES128' is not supp"),
        ("$ANSIBLE_VAULT;1.2;AES256;\n" + "\n".join(LINES[1:]), "the header's vault id is empty"),
        ("$ANSIBLE_VAULT;1.2;AES256;a;b\n" + "\n".join(LINES[1:]), "header '$ANSIBLE_VAULT;1.2"),
        ("$ANSIBLE_VAULTX;1.1;AES256\n" + "\n".join(LINES[1:]), "header '$ANSIBLE_VAULTX;1.1;"),
        (LINES[0] + "\n", "the body is empty (truncated?)"),
        (LINES[0] + "\n\n\n", "the body is empty (truncated?)"),
        ("\n".join(LINES[:3]), "not salt, HMAC and ciphertext on three lines (truncated?)"),
        ("\n".join(LINES[:-1]) + "\n" + LINES[-1][:-1], "odd number of hex digits (truncated?)"),
        ("\n".join(LINES[:-1]) + "\n" + LINES[-1][:-2], "the ciphertext is not an even number"),
        ("\n".join(LINES[:-1]) + "\n" + LINES[-1][:-4], "the ciphertext is 111 bytes, not a"),
        ("\n".join(LINES[:5]) + "\nzz" + LINES[5][2:], "'z' in the body is not a hex digit"),
        ("\n".join(LINES[:2]) + "\n" + LINES[2][:20] + " " + LINES[2][20:], "' ' in the body"),
        (GOOD.replace(LINES[1][:8], "31\u0663636", 1), "'\u0663' in the body is not a hex"),
    ],
)
def test_malformed_envelopes_are_clear_errors(data: str, message: str) -> None:
    text = error_of(data, file="group_vars/all/vault.yml")
    assert text.startswith("group_vars/all/vault.yml:")
    assert message in text


def test_errors_in_a_whole_file_name_the_line() -> None:
    data = "\n".join(LINES[:5]) + "\nzz" + LINES[5][2:] + "\n" + "\n".join(LINES[6:])
    assert error_of(data, file="v.yml").startswith("v.yml:6: vault data: 'z' in the body")
    assert error_of(b"$ANSIBLE_VAULT;1.1;AES256\n\xff\n", file="v.yml").startswith(
        "v.yml:2: vault data: not ASCII text"
    )
    assert error_of("$ANSIBLE_VAULT;9;AES256\n00", file="v.yml").startswith("v.yml:1: vault data")
    assert error_of(GOOD.replace("\n", "\r\n"), "x", file="v.yml").startswith(
        "v.yml: vault data: wrong vault password"  # CRLF files still read; the password is wrong
    )
    assert vault.decrypt(GOOD.replace("\n", "\r\n"), DEFAULT) == PLAIN


def test_a_swapped_hex_digit_fails_the_hmac_not_the_decryption() -> None:
    digit = LINES[-1][-1]
    changed = "\n".join(LINES[:-1]) + "\n" + LINES[-1][:-1] + ("0" if digit != "0" else "1")
    text = error_of(changed)
    assert "odd number" in text or "not an even number" in text or "HMAC does not match" in text


def test_fields_from_the_file_are_shown_bounded_and_printable() -> None:
    text = error_of("$ANSIBLE_VAULT;1.1;" + "\x1b[31m" + "A" * 100_000 + "\n00")
    assert "\x1b" not in text and len(text) < 400


def test_vault_tag_on_a_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vars.yml"
    path.write_text("a: 1\nb: !vault {x: 1}\n")
    with pytest.raises(InputError, match=r"vars\.yml:2: !vault must tag a text value"):
        load_values(path)


def test_an_unreadable_vault_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.yml: cannot read vault file"):
        vault.decrypt_file(tmp_path / "missing.yml", DEFAULT)


@pytest.mark.parametrize(
    "data",
    [
        "$ANSIBLE_VAULT;1.1;AES256\n" + "0" * 10_000_000,
        "$ANSIBLE_VAULT;1.1;AES256\n" + "30" * 5_000_000 + "z",
        "$ANSIBLE_VAULT;1.1;AES256\n" + "0a" * 5_000_000,
        "$ANSIBLE_VAULT" + ";" * 10_000_000,
        "$ANSIBLE_VAULT;1.1;AES256\n" + "0\n" * 5_000_000,
        vault.encrypt(b"x" * 2_000_000, "pw", salt=b"1" * 32),
    ],
)
def test_ten_megabytes_of_anything_read_in_linear_time(data: str) -> None:
    started = time.perf_counter()
    try:
        assert vault.decrypt(data, "pw") == b"x" * 2_000_000
    except InputError:
        pass
    assert time.perf_counter() - started < 5


def test_encrypt_round_trips_both_formats() -> None:
    one = vault.encrypt("value", "pw")
    two = vault.encrypt("value", "pw", vault_id="prod")
    assert one.startswith("$ANSIBLE_VAULT;1.1;AES256\n")
    assert two.startswith("$ANSIBLE_VAULT;1.2;AES256;prod\n")
    assert all(len(line) <= 80 for line in one.splitlines())
    assert vault.decrypt_text(one, "pw") == vault.decrypt_text(two, "pw") == "value"


# Fuzzing: whatever the text, the reader answers with the plaintext or our own InputError.

SMALL = vault.encrypt("ansible_password: hunter2-secret\n", "pw", vault_id="prod")


def _only_our_errors(data: str | bytes, **where: object) -> None:
    try:
        plain = vault.decrypt(data, [VaultPassword("pw", "prod")], **where)  # type: ignore[arg-type]
    except InputError as exc:
        text = str(exc)
        assert text and "\n" not in text.split(" (hint")[0]
        assert "hunter2" not in text
        return
    assert plain == b"ansible_password: hunter2-secret\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.binary(), st.text().map(lambda t: "$ANSIBLE_VAULT;" + t)))
def test_fuzz_random_input(data: str | bytes) -> None:
    _only_our_errors(data, file="fuzz.yml")


HEXISH = st.text(alphabet="0123456789abcdefABCDEF;\n\r \t$zA\u0663\x00", max_size=20)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = SMALL
    body = len(SMALL.split("\n", 1)[0]) + 1  # most mutations hit the body, some the header
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(min(body, len(text)), len(text)) | st.integers(0, len(text)))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "swap_lines"]))
        if kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif kind == "insert":
            text = text[:at] + draw(st.one_of(HEXISH, st.text(max_size=5))) + text[at:]
        elif kind == "replace":
            text = text[:at] + draw(HEXISH) + text[at + 1 :]
        elif kind == "truncate":
            text = text[:at]
        else:
            lines = text.split("\n")
            i, j = draw(st.integers(1, len(lines))), draw(st.integers(1, len(lines)))
            i, j = i % len(lines), j % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.one_of(st.none(), st.integers(1, 10_000)))
def test_fuzz_mutated_envelopes(data: str, line: int | None) -> None:
    _only_our_errors(data, file="host_vars/web.yml", line=line)
