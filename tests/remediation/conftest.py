"""Helpers for tests that apply plans.

    sign_and_approve(plan_path) -> plan_path
        The plan file (as `save_plan` wrote it) signed by its planner "alice" and approved by a
        second person "bob", each with their own SSH key, ready for `apply_plan` or
        `remediate apply`.
    approvers_args() -> list[str]
        The arguments `remediate apply` needs to trust those signatures (`--approvers FILE`).
    signing_keys() -> SigningKeys
        The keys (alice, bob, carol in the allowed signers; mallory not) and that file.

Tests under tests/remediation also get $REMEDIATE_ALLOWED_SIGNERS set to the test file (an
autouse fixture), so in-process `apply_plan` calls and `remediate apply` subprocesses started
with the test's environment trust these keys without more arguments.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from remediate.remediation.plan import approve, load_plan, save_plan, sign_plan
from remediate.remediation.signing import ALLOWED_SIGNERS_ENV, load_private_key

PEOPLE = ("alice", "bob", "carol", "mallory")  # mallory's key is not in the allowed signers


@dataclass(frozen=True)
class SigningKeys:
    folder: Path
    allowed_signers: Path

    def private(self, person: str) -> Path:
        return self.folder / person

    def public(self, person: str) -> Path:
        return self.folder / f"{person}.pub"

    def signer(self, person: str):  # -> KeyFileSigner
        return load_private_key(self.private(person))

    def public_line(self, person: str) -> str:
        return " ".join(self.public(person).read_text().split()[:2])


@cache
def signing_keys() -> SigningKeys:
    """Ed25519 keys in OpenSSH's formats (as `ssh-keygen -t ed25519` writes them), made once
    per test process in a private folder removed at exit."""
    folder = Path(tempfile.mkdtemp(prefix="remediate-test-keys-"))
    atexit.register(shutil.rmtree, folder, True)
    for person in PEOPLE:
        key = ed25519.Ed25519PrivateKey.generate()
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        (folder / person).write_bytes(private)
        (folder / person).chmod(0o600)
        public = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        (folder / f"{person}.pub").write_bytes(public + f" {person}@test\n".encode())
    keys = SigningKeys(folder, folder / "allowed_signers")
    lines = [f"{p} {keys.public_line(p)}" for p in PEOPLE if p != "mallory"]
    keys.allowed_signers.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return keys


def sign_and_approve(
    plan_path: Path,
    planner: str = "alice",
    approvers: Iterable[str] = ("bob",),
    valid: timedelta = timedelta(hours=24),
) -> Path:
    """Sign the plan at `plan_path` as its planner and approve it as each of `approvers`."""
    keys = signing_keys()
    plan = sign_plan(load_plan(plan_path), keys.signer(planner), planner)
    for person in approvers:
        plan = approve(plan, keys.signer(person), person, datetime.now(UTC), ttl=valid)
    return save_plan(plan, plan_path)


def approvers_args() -> list[str]:
    """What `remediate apply` needs on its command line to accept `sign_and_approve`'s plans."""
    return ["--approvers", str(signing_keys().allowed_signers)]


@pytest.fixture(autouse=True)
def _trust_test_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOWED_SIGNERS_ENV, str(signing_keys().allowed_signers))
