"""OpenSSH signatures (SSHSIG) and allowed-signers files, as `ssh-keygen -Y sign|verify` use them.

Plans and approvals are signed with the SSH keys administrators already have (a key file, or a
key held by ssh-agent), and verified against an allowed-signers file that the organisation
keeps (never one named by the plan).

Formats, from OpenSSH's source and manual pages:
- PROTOCOL.sshsig: the armored blob is "SSHSIG", uint32 version 1, string publickey, string
  namespace, string reserved, string hash_algorithm, string signature; what the key signs is
  "SSHSIG", string namespace, string reserved, string hash_algorithm, string H(message).
  Armor: "-----BEGIN SSH SIGNATURE-----", base64 in lines of 70, "-----END SSH SIGNATURE-----".
- RFC 4251 section 5 (string, mpint, uint32); RFC 8709 (ssh-ed25519), RFC 5656 section 3
  (ecdsa-sha2-nistp*: signature is string(mpint r, mpint s)), RFC 8332 (rsa-sha2-256/512; the
  SHA-1 "ssh-rsa" signature is refused, as ssh-keygen refuses it for SSHSIG).
- ssh-keygen(1) "ALLOWED SIGNERS": `principals [options] keytype base64-key [comment]`,
  principals a comma-separated list of patterns (may be quoted), options cert-authority,
  namespaces="list", valid-after=/valid-before= (YYYYMMDD[HHMM[SS]], a trailing Z for UTC).
- PROTOCOL.agent / draft-miller-ssh-agent section 4.5: SSH_AGENTC_REQUEST_IDENTITIES (11),
  SSH_AGENT_IDENTITIES_ANSWER (12), SSH_AGENTC_SIGN_REQUEST (13, flag 4 = rsa-sha2-512),
  SSH_AGENT_SIGN_RESPONSE (14), SSH_AGENT_FAILURE (5).

Every reader here refuses bad input with `SignatureError` (an InputError: exit code 2) that
says what and where; none backtracks, each runs in time linear in its input.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from remediate.errors import InputError

MAGIC = b"SSHSIG"
VERSION = 1
BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"
HASHES = {"sha512": hashlib.sha512, "sha256": hashlib.sha256}
MAX_ARMOR = 64 * 1024  # an RSA-16384 signature armors to under 6 KB
MAX_ALLOWED_SIGNERS = 4 * 1024 * 1024
MIN_RSA_BITS = 2048  # ssh-keygen accepts 1024 (SSH_RSA_MINIMUM_MODULUS_SIZE); we ask more
DEFAULT_ALLOWED_SIGNERS = Path("/etc/remediate/allowed_signers")
ALLOWED_SIGNERS_ENV = "REMEDIATE_ALLOWED_SIGNERS"

ED25519 = "ssh-ed25519"
RSA = "ssh-rsa"
ECDSA_CURVES: dict[str, tuple[str, ec.EllipticCurve, hashes.HashAlgorithm]] = {
    "ecdsa-sha2-nistp256": ("nistp256", ec.SECP256R1(), hashes.SHA256()),
    "ecdsa-sha2-nistp384": ("nistp384", ec.SECP384R1(), hashes.SHA384()),
    "ecdsa-sha2-nistp521": ("nistp521", ec.SECP521R1(), hashes.SHA512()),
}
KEY_TYPES = frozenset({ED25519, RSA, *ECDSA_CURVES})
# Security-key (FIDO) types: recognised in allowed-signers files, not yet verified.
SK_TYPES = frozenset({"sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"})
RSA_SIGNATURES = {"rsa-sha2-512": hashes.SHA512(), "rsa-sha2-256": hashes.SHA256()}


class SignatureError(InputError):
    """A signature, key or allowed-signers file that cannot be used; the message says why."""


class PassphraseNeeded(SignatureError):
    """A private key file protected by a passphrase, loaded without one."""


# -- RFC 4251 wire encoding ---------------------------------------------------------------


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _mpint(value: int) -> bytes:
    if value == 0:
        return _string(b"")
    raw = value.to_bytes((value.bit_length() + 8) // 8, "big")  # a leading 0 keeps it positive
    return _string(raw)


class _Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.at, self.what = data, 0, what

    def take(self, count: int) -> bytes:
        if count > len(self.data) - self.at:
            raise SignatureError(f"{self.what}: truncated")
        chunk = self.data[self.at : self.at + count]
        self.at += count
        return chunk

    def uint32(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def string(self) -> bytes:
        return self.take(self.uint32())

    def text(self) -> str:
        raw = self.string()
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            raise SignatureError(f"{self.what}: a name that is not ASCII") from None

    def mpint(self) -> int:
        raw = self.string()
        if raw and raw[0] & 0x80:
            raise SignatureError(f"{self.what}: a negative number")
        return int.from_bytes(raw, "big")

    def end(self) -> None:
        if self.at != len(self.data):
            raise SignatureError(f"{self.what}: {len(self.data) - self.at} bytes left over")


# -- public keys ----------------------------------------------------------------------------

PublicKey = ed25519.Ed25519PublicKey | rsa.RSAPublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class Key:
    """A public key as SSH encodes it (`blob`) and as `cryptography` uses it."""

    type: str
    blob: bytes
    public: PublicKey = field(compare=False, repr=False)

    @property
    def fingerprint(self) -> str:
        """As `ssh-keygen -l` prints it: SHA256:base64 without padding."""
        digest = hashlib.sha256(self.blob).digest()
        return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")

    def openssh(self) -> str:
        return f"{self.type} {base64.b64encode(self.blob).decode('ascii')}"


def key_from_blob(blob: bytes, what: str = "public key") -> Key:
    """Parse an SSH public key blob strictly (one of KEY_TYPES, nothing left over)."""
    reader = _Reader(blob, what)
    kind = reader.text()
    if kind in SK_TYPES:
        raise SignatureError(
            f"{what}: {kind} (a FIDO security key) is not supported yet",
            hint="sign with an ed25519, ecdsa or rsa key (it may live in ssh-agent)",
        )
    if kind not in KEY_TYPES:
        raise SignatureError(f"{what}: unsupported key type {kind[:40]!r}")
    public: PublicKey
    try:
        if kind == ED25519:
            raw = reader.string()
            if len(raw) != 32:
                raise SignatureError(f"{what}: an ed25519 key is 32 bytes, not {len(raw)}")
            public = ed25519.Ed25519PublicKey.from_public_bytes(raw)
        elif kind == RSA:
            exponent, modulus = reader.mpint(), reader.mpint()
            if modulus.bit_length() < MIN_RSA_BITS:
                raise SignatureError(
                    f"{what}: an RSA key of {modulus.bit_length()} bits; at least "
                    f"{MIN_RSA_BITS} are needed"
                )
            if modulus.bit_length() > 16384 or exponent < 3 or exponent % 2 == 0:
                raise SignatureError(f"{what}: not a usable RSA key")
            public = rsa.RSAPublicNumbers(exponent, modulus).public_key()
        else:
            curve_name, curve, _ = ECDSA_CURVES[kind]
            if reader.text() != curve_name:
                raise SignatureError(f"{what}: the curve does not match {kind}")
            public = ec.EllipticCurvePublicKey.from_encoded_point(curve, reader.string())
    except ValueError:
        raise SignatureError(f"{what}: not a valid {kind} key") from None
    reader.end()
    return Key(kind, blob, public)


def key_from_text(text: str, what: str = "public key") -> Key:
    """`type base64 [comment]` as in a .pub file or an allowed-signers line."""
    parts = text.split()
    if len(parts) < 2:
        raise SignatureError(f"{what}: not an SSH public key (type base64 [comment])")
    blob = _b64(parts[1], what)
    key = key_from_blob(blob, what)
    if key.type != parts[0]:
        raise SignatureError(f"{what}: says {parts[0][:40]!r} but holds a {key.type} key")
    return key


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise SignatureError(f"{what}: not valid base64") from None


def _key_of(public: object) -> Key:
    """The SSH form of a `cryptography` public key."""
    try:
        text = public.public_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
    except (ValueError, AttributeError, UnsupportedAlgorithm):
        raise SignatureError("this kind of key cannot sign SSH signatures") from None
    return key_from_text(text.decode("ascii"), "signing key")


# -- signing ---------------------------------------------------------------------------------


def signed_data(namespace: str, message: bytes, hash_algorithm: str = "sha512") -> bytes:
    """What the key signs (PROTOCOL.sshsig): the message's hash, bound to the namespace."""
    digest = HASHES[hash_algorithm](message).digest()
    return (
        MAGIC
        + _string(namespace.encode("ascii"))
        + _string(b"")
        + _string(hash_algorithm.encode("ascii"))
        + _string(digest)
    )


class Signer:
    """Something that signs with one SSH key: a private key file, or a key in ssh-agent."""

    key: Key

    def sign_raw(self, data: bytes) -> bytes:
        """The SSH signature blob (string type, string signature) over `data`."""
        raise NotImplementedError


class KeyFileSigner(Signer):
    def __init__(self, private: object) -> None:
        self.private = private
        self.key = _key_of(private.public_key())  # type: ignore[attr-defined]

    def sign_raw(self, data: bytes) -> bytes:
        private = self.private
        if isinstance(private, ed25519.Ed25519PrivateKey):
            return _string(ED25519.encode()) + _string(private.sign(data))
        if isinstance(private, rsa.RSAPrivateKey):
            signature = private.sign(data, padding.PKCS1v15(), hashes.SHA512())
            return _string(b"rsa-sha2-512") + _string(signature)
        if isinstance(private, ec.EllipticCurvePrivateKey):
            _, _, digest = ECDSA_CURVES[self.key.type]
            r, s = decode_dss_signature(private.sign(data, ec.ECDSA(digest)))
            return _string(self.key.type.encode()) + _string(_mpint(r) + _mpint(s))
        raise SignatureError("this kind of key cannot sign SSH signatures")


def load_private_key(path: Path, passphrase: bytes | None = None) -> KeyFileSigner:
    """A private key file (OpenSSH or PEM). A passphrase-protected key without its
    passphrase raises SignatureError with `needs_passphrase` set."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SignatureError(f"{path}: cannot read the key: {exc.strerror}") from None
    if len(data) > 256 * 1024:
        raise SignatureError(f"{path}: too large for a private key")
    try:
        if b"-----BEGIN OPENSSH PRIVATE KEY-----" in data:
            private = serialization.load_ssh_private_key(data, passphrase)
        else:
            private = serialization.load_pem_private_key(data, passphrase)
    except TypeError:  # encrypted without a passphrase, or a passphrase for a plain key
        if passphrase is None:
            raise PassphraseNeeded(
                f"{path}: the key is protected by a passphrase",
                hint=f"add it to ssh-agent (ssh-add {path}) and give --key {path}.pub",
            ) from None
        return load_private_key(path, None)
    except (ValueError, UnsupportedAlgorithm):
        if passphrase is not None:
            raise SignatureError(f"{path}: wrong passphrase, or not a private key") from None
        raise SignatureError(
            f"{path}: not a private key we can use (OpenSSH or PEM: ed25519, ecdsa, rsa)",
            hint="a .pub file signs through ssh-agent",
        ) from None
    return KeyFileSigner(private)


SSH_AGENT_FAILURE = 5
SSH_AGENTC_REQUEST_IDENTITIES = 11
SSH_AGENT_IDENTITIES_ANSWER = 12
SSH_AGENTC_SIGN_REQUEST = 13
SSH_AGENT_SIGN_RESPONSE = 14
SSH_AGENT_RSA_SHA2_512 = 4


class AgentSigner(Signer):
    """A key held by ssh-agent (SSH_AUTH_SOCK): the private key never leaves the agent."""

    def __init__(self, socket_path: str, key: Key) -> None:
        self.socket_path, self.key = socket_path, key

    def sign_raw(self, data: bytes) -> bytes:
        flags = SSH_AGENT_RSA_SHA2_512 if self.key.type == RSA else 0
        request = _string(self.key.blob) + _string(data) + struct.pack(">I", flags)
        kind, body = _agent_call(self.socket_path, SSH_AGENTC_SIGN_REQUEST, request)
        if kind != SSH_AGENT_SIGN_RESPONSE:
            raise SignatureError(
                f"ssh-agent refused to sign with {self.key.fingerprint}",
                hint="is the key still added (ssh-add -l), or is its confirmation declined?",
            )
        reader = _Reader(body, "ssh-agent's answer")
        signature = reader.string()
        reader.end()
        return signature


def _agent_call(socket_path: str, kind: int, payload: bytes) -> tuple[int, bytes]:
    message = bytes([kind]) + payload
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(60)  # an agent may ask its user to confirm (ssh-add -c)
            conn.connect(socket_path)
            conn.sendall(_string(message))
            length = struct.unpack(">I", _recv(conn, 4))[0]
            if length == 0 or length > 256 * 1024:
                raise SignatureError("ssh-agent: an answer of impossible length")
            answer = _recv(conn, length)
    except OSError as exc:
        raise SignatureError(
            f"cannot talk to ssh-agent at {socket_path}: {exc.strerror or exc}",
            hint="start it (eval $(ssh-agent); ssh-add KEY) or give --key PRIVATE_KEY_FILE",
        ) from None
    return answer[0], answer[1:]


def _recv(conn: socket.socket, count: int) -> bytes:
    chunks, left = [], count
    while left:
        chunk = conn.recv(left)
        if not chunk:
            raise SignatureError("ssh-agent closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def agent_keys(socket_path: str) -> list[tuple[Key, str]]:
    """The agent's keys we can sign with, each with its comment."""
    kind, body = _agent_call(socket_path, SSH_AGENTC_REQUEST_IDENTITIES, b"")
    if kind != SSH_AGENT_IDENTITIES_ANSWER:
        raise SignatureError("ssh-agent did not list its keys")
    reader = _Reader(body, "ssh-agent's list of keys")
    keys: list[tuple[Key, str]] = []
    for _ in range(reader.uint32()):
        blob, comment = reader.string(), reader.string()
        try:
            keys.append((key_from_blob(blob, "agent key"), comment.decode("utf-8", "replace")))
        except SignatureError:
            continue  # certificates and key types we do not sign with
    return keys


def agent_signer(public: Key | None = None) -> AgentSigner:
    """A signer for `public` in ssh-agent, or for the agent's only key."""
    socket_path = os.environ.get("SSH_AUTH_SOCK", "")
    if not socket_path:
        raise SignatureError(
            "no key to sign with: give --key FILE (a private key, or a .pub held by ssh-agent)",
            hint="or start ssh-agent and ssh-add your key",
        )
    keys = [k for k, _ in agent_keys(socket_path)]
    if public is not None:
        if public not in keys:
            raise SignatureError(
                f"ssh-agent does not hold the key {public.fingerprint}",
                hint="ssh-add its private key, or give the private key file with --key",
            )
        return AgentSigner(socket_path, public)
    if len(keys) != 1:
        raise SignatureError(
            f"ssh-agent holds {len(keys)} usable keys: say which with --key FILE.pub"
            if keys
            else "ssh-agent holds no ed25519, ecdsa or rsa key",
            hint="ssh-add -L lists them",
        )
    return AgentSigner(socket_path, keys[0])


def signer_for(path: Path | None, passphrase: bytes | None = None) -> Signer:
    """--key FILE: a private key file, or a public key (.pub) whose private half is in
    ssh-agent; no --key: the agent's only key."""
    if path is None:
        return agent_signer()
    try:
        head = path.read_bytes()[:200]
    except OSError as exc:
        raise SignatureError(f"{path}: cannot read the key: {exc.strerror}") from None
    if head.split(b" ", 1)[0].decode("ascii", "replace") in KEY_TYPES | SK_TYPES:
        text = path.read_text(encoding="ascii", errors="replace").strip()
        return agent_signer(key_from_text(text, str(path)))
    return load_private_key(path, passphrase)


def sign(signer: Signer, namespace: str, message: bytes) -> str:
    """An armored SSHSIG signature of `message` in `namespace`, as `ssh-keygen -Y sign`."""
    signature = signer.sign_raw(signed_data(namespace, message))
    blob = (
        MAGIC
        + struct.pack(">I", VERSION)
        + _string(signer.key.blob)
        + _string(namespace.encode("ascii"))
        + _string(b"")
        + _string(b"sha512")
        + _string(signature)
    )
    # Check our own signature before it is written (a signer that answers garbage is caught
    # here, not at apply time).
    _verify_raw(signer.key, signature, signed_data(namespace, message), "our own signature")
    text = base64.b64encode(blob).decode("ascii")
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return "\n".join([BEGIN, *lines, END]) + "\n"


# -- reading and verifying ---------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    key: Key
    namespace: str
    hash_algorithm: str
    signature: bytes


def parse_signature(armored: str, what: str = "signature") -> Signature:
    """An armored SSHSIG, strictly: one BEGIN/END block of base64, version 1, known hash."""
    if not isinstance(armored, str):
        raise SignatureError(f"{what}: not text")
    if len(armored) > MAX_ARMOR:
        raise SignatureError(f"{what}: too long for an SSH signature")
    lines = [line.strip() for line in armored.strip().splitlines()]
    if len(lines) < 3 or lines[0] != BEGIN or lines[-1] != END:
        raise SignatureError(f"{what}: not an SSH signature ({BEGIN} ... {END})")
    blob = _b64("".join(lines[1:-1]), what)
    reader = _Reader(blob, what)
    if reader.take(6) != MAGIC:
        raise SignatureError(f"{what}: not an SSHSIG signature")
    version = reader.uint32()
    if version != VERSION:
        raise SignatureError(f"{what}: SSHSIG version {version}, only {VERSION} is known")
    key = key_from_blob(reader.string(), f"{what}: its key")
    namespace = reader.text()
    reader.string()  # reserved: ignored, as ssh-keygen does
    hash_algorithm = reader.text()
    if hash_algorithm not in HASHES:
        raise SignatureError(f"{what}: unsupported hash {hash_algorithm[:20]!r}")
    signature = reader.string()
    reader.end()
    return Signature(key, namespace, hash_algorithm, signature)


def _verify_raw(key: Key, signature: bytes, data: bytes, what: str) -> None:
    reader = _Reader(signature, what)
    kind = reader.text()
    raw = reader.string()
    reader.end()
    bad = SignatureError(
        f"{what}: the signature does not match (made by another key, or over other content)"
    )
    try:
        if key.type == ED25519 and kind == ED25519:
            assert isinstance(key.public, ed25519.Ed25519PublicKey)
            key.public.verify(raw, data)
        elif key.type == RSA and kind in RSA_SIGNATURES:
            assert isinstance(key.public, rsa.RSAPublicKey)
            key.public.verify(raw, data, padding.PKCS1v15(), RSA_SIGNATURES[kind])
        elif key.type in ECDSA_CURVES and kind == key.type:
            assert isinstance(key.public, ec.EllipticCurvePublicKey)
            numbers = _Reader(raw, what)
            r, s = numbers.mpint(), numbers.mpint()
            numbers.end()
            digest = ECDSA_CURVES[key.type][2]
            key.public.verify(encode_dss_signature(r, s), data, ec.ECDSA(digest))
        else:
            raise SignatureError(f"{what}: a {kind[:40]!r} signature by a {key.type} key")
    except (InvalidSignature, ValueError):
        raise bad from None


def verify(armored: str, namespace: str, message: bytes, what: str = "signature") -> Key:
    """The key that made this signature of `message` in `namespace`; SignatureError when it
    does not verify. Whether that key may sign is the allowed signers' question."""
    parsed = parse_signature(armored, what)
    if parsed.namespace != namespace:
        raise SignatureError(f"{what}: made for {parsed.namespace[:60]!r}, not {namespace!r}")
    data = signed_data(namespace, message, parsed.hash_algorithm)
    _verify_raw(parsed.key, parsed.signature, data, what)
    return parsed.key


# -- allowed signers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SignerEntry:
    principals: tuple[str, ...]  # patterns, as written
    key: Key
    namespaces: tuple[str, ...] | None = None  # patterns; None: any
    valid_after: datetime | None = None
    valid_before: datetime | None = None
    where: str = ""  # file:line

    def allows_namespace(self, namespace: str) -> bool:
        return self.namespaces is None or matches(namespace, self.namespaces)

    def valid_at(self, when: datetime) -> bool:
        if self.valid_after is not None and when < self.valid_after:
            return False
        return not (self.valid_before is not None and when > self.valid_before)


def _wildcard(name: str, pattern: str) -> bool:
    """OpenSSH's match_pattern: `*` any run, `?` one character, nothing else special. Greedy
    with one backtrack point: O(len(name) * len(pattern)) at worst, no recursion."""
    n = p = 0
    star, mark = -1, 0
    while n < len(name):
        if p < len(pattern) and (pattern[p] == "?" or pattern[p] == name[n]):
            n, p = n + 1, p + 1
        elif p < len(pattern) and pattern[p] == "*":
            star, mark, p = p, n, p + 1
        elif star >= 0:
            mark += 1
            n, p = mark, star + 1
        else:
            return False
    return all(c == "*" for c in pattern[p:])


def matches(name: str, patterns: Iterable[str]) -> bool:
    """OpenSSH's match_pattern_list: `*` and `?` wildcards, `!` negates (and wins)."""
    matched = False
    for pattern in patterns:
        if pattern.startswith("!"):
            if _wildcard(name, pattern[1:]):
                return False
        elif _wildcard(name, pattern):
            matched = True
    return matched


@dataclass(frozen=True)
class AllowedSigners:
    source: str
    entries: tuple[SignerEntry, ...]

    def entries_for(self, key: Key, namespace: str, when: datetime) -> list[SignerEntry]:
        return [
            e
            for e in self.entries
            if e.key == key and e.allows_namespace(namespace) and e.valid_at(when)
        ]

    def person(self, key: Key) -> frozenset[str]:
        """Everything that names the person holding `key`: its fingerprint, every principal it
        is listed under (lower-cased), and, transitively, every other key listed under one of
        those principals (a key under two principals, two keys under one principal: one
        person). A pattern principal counts as written. Linear: a walk of the graph of keys
        and principals."""
        by_label: dict[str, list[str]] = {}
        for entry in self.entries:
            key_label = f"key:{entry.key.fingerprint}"
            for principal in entry.principals:
                name = f"principal:{principal.lower()}"
                by_label.setdefault(key_label, []).append(name)
                by_label.setdefault(name, []).append(key_label)
        start = f"key:{key.fingerprint}"
        seen, todo = {start}, [start]
        while todo:
            for neighbour in by_label.get(todo.pop(), ()):
                if neighbour not in seen:
                    seen.add(neighbour)
                    todo.append(neighbour)
        return frozenset(seen)


def _tokens(line: str, where: str) -> list[str]:
    """Whitespace-separated fields; double quotes keep spaces (and commas) in one field."""
    fields: list[str] = []
    current: list[str] = []
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
            current.append(char)
        elif char in " \t" and not quoted:
            if current:
                fields.append("".join(current))
                current = []
        else:
            current.append(char)
    if quoted:
        raise SignatureError(f"{where}: a quote is not closed")
    if current:
        fields.append("".join(current))
    return fields


def _split_list(text: str, where: str, what: str) -> tuple[str, ...]:
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        text = text[1:-1]
    if '"' in text:
        raise SignatureError(f"{where}: a stray quote in the {what}")
    items = tuple(text.split(","))
    if any(not item or len(item) > 512 for item in items):
        raise SignatureError(f"{where}: an empty or overlong name in the {what}")
    return items


def _time(value: str, where: str, option: str) -> datetime:
    text, utc = (value[:-1], True) if value.endswith(("Z", "z")) else (value, False)
    formats = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
    if not text.isdigit() or len(text) not in formats:
        raise SignatureError(f"{where}: {option}={value!r}: not YYYYMMDD[HHMM[SS]][Z]")
    try:
        moment = datetime.strptime(text, formats[len(text)])
    except ValueError:
        raise SignatureError(f"{where}: {option}={value!r}: not a date") from None
    return moment.replace(tzinfo=UTC) if utc else moment.astimezone(UTC)  # local time


def _options(text: str, where: str) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for item in _split_options(text, where):
        name, _, value = item.partition("=")
        name = name.lower()
        if name not in ("cert-authority", "namespaces", "valid-after", "valid-before"):
            raise SignatureError(f"{where}: unknown option {name[:40]!r}")
        if name in found:
            raise SignatureError(f"{where}: option {name} given twice")
        if name == "cert-authority":
            if value:
                raise SignatureError(f"{where}: cert-authority takes no value")
            found[name] = None
            continue
        if len(value) < 2 or not (value.startswith('"') and value.endswith('"')):
            raise SignatureError(f'{where}: {name} needs a quoted value: {name}="..."')
        found[name] = value[1:-1]
    return found


def _split_options(text: str, where: str) -> list[str]:
    items, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    if any(not item for item in items):
        raise SignatureError(f"{where}: an empty option")
    return items


def parse_allowed_signers(text: str, source: str) -> AllowedSigners:
    """An allowed-signers file (ssh-keygen(1) ALLOWED SIGNERS), strictly: every line is a
    signer, a comment or blank; anything else is an error naming file:line."""
    entries: list[SignerEntry] = []
    for number, raw in enumerate(text.splitlines(), 1):
        where = f"{source}:{number}"
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = _tokens(line, where)
        if len(fields) < 3:
            raise SignatureError(
                f"{where}: expected `principals [options] keytype base64-key [comment]`"
            )
        principals = _split_list(fields[0], where, "principals")
        options: dict[str, str | None] = {}
        rest = fields[1:]
        if rest[0] not in KEY_TYPES | SK_TYPES:
            if "=" not in rest[0] and rest[0].lower() != "cert-authority":
                raise SignatureError(
                    f"{where}: {rest[0][:40]!r} is not a key type we accept (ssh-ed25519, "
                    "ecdsa-sha2-nistp256/384/521, ssh-rsa) nor an option"
                )
            options = _options(rest[0], where)
            rest = rest[1:]
        if len(rest) < 2 or rest[0] not in KEY_TYPES | SK_TYPES:
            raise SignatureError(
                f"{where}: no key type (ssh-ed25519, ecdsa-sha2-nistp256, ssh-rsa...) where "
                "one was expected"
            )
        if "cert-authority" in options:
            raise SignatureError(
                f"{where}: cert-authority: signatures by certificates are not supported",
                hint="list each signer's own key",
            )
        if rest[0] in SK_TYPES:
            continue  # FIDO keys: recognised, not usable yet (their signatures are refused)
        namespaces = options.get("namespaces")
        after, before = options.get("valid-after"), options.get("valid-before")
        listed = _split_list(namespaces, where, "namespaces") if namespaces is not None else None
        valid_after = _time(after, where, "valid-after") if after is not None else None
        valid_before = _time(before, where, "valid-before") if before is not None else None
        key = key_from_text(f"{rest[0]} {rest[1]}", where)
        entries.append(SignerEntry(principals, key, listed, valid_after, valid_before, where=where))
    return AllowedSigners(source, tuple(entries))


def load_allowed_signers(path: Path | None = None) -> AllowedSigners:
    """--approvers FILE; else $REMEDIATE_ALLOWED_SIGNERS; else /etc/remediate/allowed_signers."""
    if path is None:
        configured = os.environ.get(ALLOWED_SIGNERS_ENV)
        path = Path(configured) if configured else DEFAULT_ALLOWED_SIGNERS
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SignatureError(
            f"{path}: no allowed-signers file: who may plan and approve is not configured",
            hint=f"give --approvers FILE, set {ALLOWED_SIGNERS_ENV}, or create "
            f"{DEFAULT_ALLOWED_SIGNERS} (lines `principal ssh-ed25519 AAAA...`)",
        ) from None
    except OSError as exc:
        raise SignatureError(f"{path}: cannot read: {exc.strerror}") from None
    if len(data) > MAX_ALLOWED_SIGNERS:
        raise SignatureError(f"{path}: too large for an allowed-signers file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SignatureError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    allowed = parse_allowed_signers(text, str(path))
    if not allowed.entries:
        raise SignatureError(f"{path}: lists no signer")
    return allowed
