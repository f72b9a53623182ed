"""Ansible Vault: decrypt what `ansible-vault` encrypted, whole files and `!vault` values.

The format, as documented by Ansible ("Format of files encrypted with Ansible Vault",
https://docs.ansible.com/ansible/latest/vault_guide/vault_using_encrypted_content.html
#format-of-files-encrypted-with-ansible-vault) and written by ansible-core's `VaultAES256`
(lib/ansible/parsing/vault/__init__.py):

    $ANSIBLE_VAULT;1.1;AES256              (or $ANSIBLE_VAULT;1.2;AES256;<vault id>)
    <hex lines, 80 columns>               hexlify(hex(salt) "\\n" hex(hmac) "\\n" hex(ciphertext))

    keys   = PBKDF2-HMAC-SHA256(password, salt, 10000 iterations, 80 bytes)
             -> AES key (32) | HMAC key (32) | counter block (16)
    hmac   = HMAC-SHA256(HMAC key, ciphertext), checked (in constant time) before decrypting
    plain  = AES-256-CTR(AES key, counter block) of the ciphertext, PKCS#7 padding removed

A `!vault |` value in YAML carries the same envelope as its text: register
`vault_constructor` on a loader to read such values as `VaultedValue`s, decrypted when used.

Decrypted data is secret, but this room may not import `remediate.connect` (where `Secret`
lives): `decrypt` returns plain bytes and `VaultedValue.decrypt` a plain str, and the caller
wraps them at once. Nothing here puts a password or decrypted text into an error message;
errors name the file, the line and the vault id. Every step is linear in the input (no
regular expressions); the key derivation costs the same for any input. cryptography is
imported when a first envelope is opened: an inventory without one never loads it (20 ms of
a run's start, issue 18).
"""

from __future__ import annotations

import binascii
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from remediate.errors import InputError

HEADER = "$ANSIBLE_VAULT"
VERSIONS = ("1.1", "1.2")
CIPHER = "AES256"  # the only cipher ansible-core reads (CIPHER_MAPPING) and writes
DEFAULT_VAULT_ID = "default"  # ansible-core's C.DEFAULT_VAULT_IDENTITY, for 1.1 envelopes
ITERATIONS = 10_000
KEY_BYTES = 32
IV_BYTES = 16
HMAC_BYTES = 32  # SHA-256
BLOCK_BYTES = 16  # AES; ansible-core pads the plaintext with PKCS#7 to this before CTR
LINE_WIDTH = 80  # ansible-core wraps the hex at 80 columns

_HEX = frozenset("0123456789abcdefABCDEF")
_SHOWN = 60  # at most this many characters of any field read from the file appear in messages


@dataclass(frozen=True)
class VaultPassword:
    """One vault password and the id it is given for (`--vault-id prod@file`).

    Plain text on purpose (see the module's note); `repr` never shows it.
    """

    secret: str | bytes = field(repr=False)
    vault_id: str = DEFAULT_VAULT_ID


Passwords = str | bytes | VaultPassword | Iterable[VaultPassword]
"""One password (for any vault id) or several, each for its vault id."""


@dataclass(frozen=True)
class Envelope:
    """A parsed vault envelope, not yet decrypted."""

    version: str
    vault_id: str | None  # None for 1.1 (Ansible reads it as "default")
    salt: bytes
    hmac: bytes
    ciphertext: bytes


def is_vault(data: str | bytes) -> bool:
    """True when `data` starts as Ansible's `is_encrypted` recognises vault data."""
    head = data[: len(HEADER)]
    return (head.decode("ascii", "replace") if isinstance(head, bytes) else head) == HEADER


def _shown(text: str) -> str:
    """A field read from the file, bounded and quoted, for a message."""
    cleaned = "".join(c if c.isprintable() else "?" for c in text[: _SHOWN + 1])
    return repr(cleaned if len(cleaned) <= _SHOWN else cleaned[:_SHOWN] + "...")


class _Where:
    """File and line for errors: a `!vault` value pins every error to its own line; in a
    whole file the line of the envelope that is wrong is named."""

    def __init__(self, file: str | None, line: int | None) -> None:
        self.file = file
        self.line = line

    def error(self, message: str, offset: int | None = None, hint: str | None = None) -> InputError:
        line = self.line
        if line is None and offset is not None:
            line = offset + 1
        what = "vault value" if self.line is not None else "vault data"
        return InputError(
            f"{what}: {message}",
            file=self.file,
            line=line,
            hint=hint or "re-create it with `ansible-vault encrypt` or `encrypt_string`",
        )


def parse(data: str | bytes, *, file: str | None = None, line: int | None = None) -> Envelope:
    """Read the envelope (header, hex body, salt/hmac/ciphertext) without decrypting it.

    `line` is the line of a `!vault` value in its YAML file; leave it out for a whole file.
    """
    where = _Where(file, line)
    if isinstance(data, bytes):
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError as exc:
            offset = data.count(b"\n", 0, exc.start)
            raise where.error(
                "not ASCII text; a vault envelope is header and hex", offset
            ) from None
    else:
        text = data
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # as bytes.splitlines
    if not lines or not is_vault(lines[0]):
        raise where.error(f"does not start with {HEADER!r}", 0)
    fields = [part.strip() for part in lines[0].strip().split(";")]
    if fields[0] != HEADER or len(fields) not in (3, 4):
        raise where.error(
            f"header {_shown(lines[0].strip())} is not "
            f"'{HEADER};1.1;{CIPHER}' or '{HEADER};1.2;{CIPHER};<vault id>'",
            0,
        )
    version, cipher = fields[1], fields[2]
    vault_id = fields[3] if len(fields) == 4 else None
    if version not in VERSIONS:
        raise where.error(
            f"format version {_shown(version)} is not one of {', '.join(VERSIONS)}", 0
        )
    if cipher != CIPHER:
        raise where.error(f"cipher {_shown(cipher)} is not supported (only {CIPHER})", 0)
    if vault_id is not None and not vault_id:
        raise where.error("the header's vault id is empty", 0)

    body: list[str] = []
    for index, raw in enumerate(lines[1:], start=1):
        chunk = raw.strip()
        if not _HEX.issuperset(chunk):
            bad = next(c for c in chunk if c not in _HEX)
            raise where.error(f"{_shown(bad)} in the body is not a hex digit", index)
        body.append(chunk)
    hexed = "".join(body)
    if not hexed:
        raise where.error("the body is empty (truncated?)", len(lines) - 1)
    if len(hexed) % 2:
        raise where.error("the body has an odd number of hex digits (truncated?)", len(lines) - 1)
    inner = binascii.unhexlify(hexed)
    parts = inner.split(b"\n", 2)
    if len(parts) != 3:
        raise where.error("the body is not salt, HMAC and ciphertext on three lines (truncated?)")
    names = ("salt", "HMAC", "ciphertext")
    decoded: list[bytes] = []
    for name, part in zip(names, parts, strict=True):
        try:
            decoded.append(binascii.unhexlify(part))
        except (binascii.Error, ValueError):
            raise where.error(f"the {name} is not an even number of hex digits") from None
    salt, mac, ciphertext = decoded
    if not salt:
        raise where.error("the salt is empty")
    if len(mac) != HMAC_BYTES:
        raise where.error(f"the HMAC is {len(mac)} bytes, not {HMAC_BYTES} (truncated?)")
    if not ciphertext or len(ciphertext) % BLOCK_BYTES:
        raise where.error(
            f"the ciphertext is {len(ciphertext)} bytes, not a positive multiple of "
            f"{BLOCK_BYTES} (truncated?)"
        )
    return Envelope(version, vault_id, salt, mac, ciphertext)


def _keys(password: bytes, salt: bytes) -> tuple[bytes, bytes, bytes]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    derived = PBKDF2HMAC(
        algorithm=hashes.SHA256(),
        length=2 * KEY_BYTES + IV_BYTES,
        salt=salt,
        iterations=ITERATIONS,
    ).derive(password)
    return derived[:KEY_BYTES], derived[KEY_BYTES : 2 * KEY_BYTES], derived[2 * KEY_BYTES :]


def _password_bytes(password: VaultPassword, where: _Where) -> bytes:
    secret = password.secret
    if isinstance(secret, str):
        try:
            # As ansible-core's to_bytes(errors="surrogate_or_strict").
            secret = secret.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise where.error(
                f"the password for vault id {_shown(password.vault_id)} is not valid text",
                hint="give the password as it was typed to ansible-vault",
            ) from None
    if not secret:
        raise where.error(
            f"the password for vault id {_shown(password.vault_id)} is empty",
            hint="ansible-vault refuses empty passwords too",
        )
    return secret


def _passwords(passwords: Passwords) -> list[VaultPassword]:
    if isinstance(passwords, str | bytes):
        return [VaultPassword(passwords)]
    if isinstance(passwords, VaultPassword):
        return [passwords]
    return list(passwords)


def decrypt(
    data: str | bytes,
    passwords: Passwords,
    *,
    file: str | None = None,
    line: int | None = None,
) -> bytes:
    """The plaintext of a vault envelope (a whole file's text, or a `!vault` value's).

    The password given for the envelope's vault id is tried first, then the others, as
    ansible-core does when vault ids need not match. Raises InputError naming the file, the
    line and the vault id when no password fits or the envelope is malformed.
    """
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    where = _Where(file, line)
    envelope = parse(data, file=file, line=line)
    candidates = _passwords(passwords)
    if not candidates:
        raise where.error(
            "encrypted, and no vault password was given",
            hint="give the vault password (--vault-id / --vault-password-file)",
        )
    wanted = envelope.vault_id or DEFAULT_VAULT_ID
    ordered = sorted(candidates, key=lambda p: p.vault_id != wanted)  # stable: matches first
    for password in ordered:
        aes_key, hmac_key, counter = _keys(_password_bytes(password, where), envelope.salt)
        digest = hmac.new(hmac_key, envelope.ciphertext, "sha256").digest()
        if not hmac.compare_digest(digest, envelope.hmac):
            continue
        decryptor = Cipher(algorithms.AES(aes_key), modes.CTR(counter)).decryptor()
        padded = decryptor.update(envelope.ciphertext) + decryptor.finalize()
        unpadder = padding.PKCS7(BLOCK_BYTES * 8).unpadder()
        try:
            return unpadder.update(padded) + unpadder.finalize()
        except ValueError:
            raise where.error(
                f"vault id {_shown(wanted)}: the decrypted data has bad padding",
                hint="the file was not written by ansible-vault; re-create it",
            ) from None
    tried = ", ".join(_shown(p.vault_id) for p in ordered[:5]) + (
        ", ..." if len(ordered) > 5 else ""
    )
    label = (
        f"vault id {_shown(envelope.vault_id)}" if envelope.vault_id else "format 1.1, no vault id"
    )
    raise where.error(
        f"wrong vault password ({label}; tried {tried}): the HMAC does not match",
        hint="give the password it was encrypted with; if it is right, the data was altered",
    )


def decrypt_text(
    data: str | bytes,
    passwords: Passwords,
    *,
    file: str | None = None,
    line: int | None = None,
) -> str:
    """`decrypt`, the plaintext read as UTF-8 (what `!vault` values and vars files hold)."""
    plain = decrypt(data, passwords, file=file, line=line)
    try:
        return plain.decode("utf-8")
    except UnicodeDecodeError:
        raise _Where(file, line).error("the decrypted data is not UTF-8 text") from None


def decrypt_file(
    path: str | os.PathLike[str],
    passwords: Passwords,
) -> bytes:
    """The plaintext of a file `ansible-vault encrypt` wrote."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read vault file: {exc.strerror or exc}", file=name) from None
    return decrypt(data, passwords, file=name)


@dataclass(frozen=True)
class VaultedValue:
    """A `!vault` value as read from YAML: the envelope, where it stood, decrypted on use."""

    envelope: str = field(repr=False)
    file: str | None = None
    line: int | None = None

    @property
    def vault_id(self) -> str | None:
        return parse(self.envelope, file=self.file, line=self.line).vault_id

    def decrypt(self, passwords: Passwords) -> str:
        return decrypt_text(self.envelope, passwords, file=self.file, line=self.line)

    def __str__(self) -> str:
        return "!vault"


def vault_constructor(loader: Any, node: Any) -> VaultedValue:
    """PyYAML constructor for the `!vault` tag: `Loader.add_constructor("!vault", ...)`.

    Only a text (scalar) value may carry the tag, as in Ansible; the value keeps its file
    (the loader's name) and 1-based line for error messages.
    """
    import yaml  # the caller already loads YAML; the rest of this module does not need it

    name = getattr(loader, "name", None)
    file = name if isinstance(name, str) and not name.startswith("<") else None
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.ScalarNode):
        raise InputError(
            "!vault must tag a text value (the output of `ansible-vault encrypt_string`)",
            file=file,
            line=line,
        )
    return VaultedValue(str(loader.construct_scalar(node)), file, line)


def encrypt(
    plaintext: str | bytes,
    password: str | bytes,
    *,
    vault_id: str | None = None,
    salt: bytes | None = None,
) -> str:
    """The envelope `ansible-vault encrypt` would write (1.2 with a vault id, else 1.1).

    For tests and the lab: the toolkit itself only reads vaults.
    """
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
    secret = password.encode("utf-8", "surrogateescape") if isinstance(password, str) else password
    salt = os.urandom(32) if salt is None else salt
    aes_key, hmac_key, counter = _keys(secret, salt)
    padder = padding.PKCS7(BLOCK_BYTES * 8).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(aes_key), modes.CTR(counter)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    mac = hmac.new(hmac_key, ciphertext, "sha256").digest()
    inner = b"\n".join(binascii.hexlify(part) for part in (salt, mac, ciphertext))
    body = binascii.hexlify(inner).decode("ascii")
    header = f"{HEADER};1.2;{CIPHER};{vault_id}" if vault_id else f"{HEADER};1.1;{CIPHER}"
    rows = [body[i : i + LINE_WIDTH] for i in range(0, len(body), LINE_WIDTH)]
    return "\n".join([header, *rows]) + "\n"
