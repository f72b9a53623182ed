"""Signed plans and approvals (issue 15): OpenSSH SSHSIG both ways with ssh-keygen, ssh-agent
keys, the allowed-signers reader, and every forgery an attacker with write access to a plan
file can try, each refused with a reason naming what failed."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remediate.remediation.plan import (
    APPROVAL_NAMESPACE,
    PLAN_NAMESPACE,
    ApprovalStatement,
    Plan,
    PlanError,
    SignedApproval,
    approve,
    load_plan,
    save_plan,
    sign_plan,
    verify_plan,
)
from remediate.remediation.signing import (
    AllowedSigners,
    SignatureError,
    load_allowed_signers,
    load_private_key,
    parse_allowed_signers,
    parse_signature,
    sign,
    signer_for,
    verify,
)
from tests.remediation.conftest import signing_keys
from tests.remediation.test_plan import NOW
from tests.remediation.test_plan import make_plan as unsigned_plan

SSH_KEYGEN = shutil.which("ssh-keygen")
needs_openssh = pytest.mark.skipif(SSH_KEYGEN is None, reason="ssh-keygen is not installed")
MESSAGE = b"the plan's canonical content\n"


# -- OpenSSH interoperability ----------------------------------------------------------------


@pytest.fixture(scope="module")
def openssh_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("openssh-keys")
    keys = {}
    for kind, extra in (("ed25519", []), ("rsa", ["-b", "3072"]), ("ecdsa", ["-b", "256"])):
        path = folder / kind
        subprocess.run(
            ["ssh-keygen", "-q", "-t", kind, *extra, "-N", "", "-C", f"{kind}@test", "-f", path],
            check=True,
        )
        keys[kind] = path
    lines = [f"tester {(p.with_suffix('.pub')).read_text().strip()}" for p in keys.values()]
    (folder / "allowed_signers").write_text("\n".join(lines) + "\n")
    return keys


def keygen_verify(allowed: Path, signature: str, namespace: str, message: bytes) -> str:
    sig = allowed.with_name("message.sig")
    sig.write_text(signature)
    done = subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", allowed, "-I", "tester", "-n", namespace, "-s", sig],
        input=message,
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


@needs_openssh
@pytest.mark.parametrize("kind", ["ed25519", "rsa", "ecdsa"])
def test_our_signatures_verify_with_ssh_keygen_and_its_with_ours(
    openssh_keys: dict[str, Path], kind: str
) -> None:
    path = openssh_keys[kind]
    allowed = path.with_name("allowed_signers")
    ours = sign(load_private_key(path), PLAN_NAMESPACE, MESSAGE)
    assert 'Good "remediate-plan@remediate" signature for tester' in keygen_verify(
        allowed, ours, PLAN_NAMESPACE, MESSAGE
    )
    theirs = subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-q", "-f", path, "-n", PLAN_NAMESPACE],
        input=MESSAGE,
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout.decode()
    key = verify(theirs, PLAN_NAMESPACE, MESSAGE)
    assert key == load_private_key(path).key
    with pytest.raises(SignatureError, match="does not match"):
        verify(theirs, PLAN_NAMESPACE, MESSAGE + b"x")
    with pytest.raises(SignatureError, match="made for 'remediate-plan@remediate'"):
        verify(theirs, APPROVAL_NAMESPACE, MESSAGE)


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """ssh-agent on a socket of our own, stopped after the test."""
    if shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None:
        pytest.skip("ssh-agent is not installed")
    sock = tmp_path / "agent.sock"
    process = subprocess.Popen(
        ["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
        yield sock
    finally:
        process.terminate()
        process.wait(timeout=10)


@needs_openssh
def test_a_key_in_ssh_agent_signs(agent: Path, openssh_keys: dict[str, Path]) -> None:
    for kind in ("ed25519", "rsa"):
        subprocess.run(["ssh-add", "-q", openssh_keys[kind]], check=True, env=os.environ)
    with pytest.raises(SignatureError, match="holds 2 usable keys"):
        signer_for(None)
    for kind in ("ed25519", "rsa"):
        public = openssh_keys[kind].with_suffix(".pub")
        signer = signer_for(public)  # the .pub: the private half stays in the agent
        signature = sign(signer, APPROVAL_NAMESPACE, MESSAGE)
        allowed = openssh_keys[kind].with_name("allowed_signers")
        assert "Good" in keygen_verify(allowed, signature, APPROVAL_NAMESPACE, MESSAGE)
    keys = signing_keys()
    with pytest.raises(SignatureError, match="does not hold the key"):
        signer_for(keys.public("carol"))


# -- allowed signers -------------------------------------------------------------------------


def test_allowed_signers_in_openssh_format() -> None:
    keys = signing_keys()
    text = (
        "# who may plan and approve\n\n"
        f'"alice,a.smith@corp" {keys.public_line("alice")} laptop\n'
        f'bob namespaces="remediate-approval@remediate" {keys.public_line("bob")}\n'
        f'carol valid-after="20200101",valid-before="20210101Z" {keys.public_line("carol")}\n'
    )
    allowed = parse_allowed_signers(text, "signers")
    alice, bob, carol = allowed.entries
    assert alice.principals == ("alice", "a.smith@corp") and alice.where == "signers:3"
    assert bob.allows_namespace(APPROVAL_NAMESPACE) and not bob.allows_namespace(PLAN_NAMESPACE)
    assert not carol.valid_at(NOW)


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("alice", "signers:2: expected `principals"),
        ("alice ssh-ed25519 AAAA!!!!", "signers:2: not valid base64"),
        ('alice nope="x" ssh-ed25519 AAAA', "signers:2: unknown option 'nope'"),
        ("alice namespaces=x ssh-ed25519 AAAA", "signers:2: namespaces needs a quoted value"),
        ('"alice ssh-ed25519 AAAA', "signers:2: a quote is not closed"),
        ('alice valid-after="2020" ssh-ed25519 AAAA', "signers:2: valid-after='2020'"),
        ("alice cert-authority ssh-ed25519 AAAA", "signers:2: cert-authority"),
        ("alice ssh-dss AAAA", "signers:2: 'ssh-dss' is not a key type we accept"),
        ('alice namespaces="x" AAAA', "signers:2: no key type"),
        ("alice ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==", "signers:2: .*truncated"),
        (",alice {bob}", "signers:2: an empty or overlong name"),
    ],
)
def test_a_bad_allowed_signers_line_names_file_and_line(line: str, error: str) -> None:
    keys = signing_keys()
    good = f"carol {keys.public_line('carol')}"
    with pytest.raises(SignatureError, match=error):
        parse_allowed_signers(
            good + "\n" + line.replace("{bob}", keys.public_line("bob")), "signers"
        )


def test_allowed_signers_file_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMEDIATE_ALLOWED_SIGNERS", str(tmp_path / "missing"))
    with pytest.raises(SignatureError, match=r"no allowed-signers file.*--approvers FILE"):
        load_allowed_signers()
    empty = tmp_path / "empty"
    empty.write_text("# nobody\n")
    with pytest.raises(SignatureError, match="lists no signer"):
        load_allowed_signers(empty)
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(SignatureError, match="not UTF-8"):
        load_allowed_signers(binary)


@pytest.mark.parametrize(
    "text",
    [
        "a" * 10_000_000,
        '"' + "a," * 3_000_000,
        "*" * 500 + " " + 'x="' * 2_000_000,
        ("alice " + 'namespaces="' + "*," * 2_000_000) + '" ssh-ed25519 AAAA',
    ],
)
def test_the_allowed_signers_reader_is_linear(text: str) -> None:
    started = time.monotonic()
    with pytest.raises(SignatureError):
        parse_allowed_signers(text, "big")
    assert time.monotonic() - started < 5


def test_principal_patterns_do_not_backtrack() -> None:
    from remediate.remediation.signing import matches

    started = time.monotonic()
    assert not matches("a" * 400 + "b", ["*a" * 200 + "c"])
    assert matches("bob@corp", ["*@corp"]) and not matches("bob@corp", ["*@corp", "!bob@*"])
    assert time.monotonic() - started < 2


# -- plans: signed by the planner, approved by others ---------------------------------------


def allowed(extra: str = "") -> AllowedSigners:
    text = signing_keys().allowed_signers.read_text() + extra
    return parse_allowed_signers(text, "allowed_signers")


def signed(planner: str = "alice") -> Plan:
    return sign_plan(unsigned_plan(), signing_keys().signer(planner), planner)


def approved(
    *approvers: str, plan: Plan | None = None, ttl: timedelta = timedelta(hours=24)
) -> Plan:
    plan = plan or signed()
    for person in approvers:
        plan = approve(plan, signing_keys().signer(person), person, NOW, "CHG0042", ttl)
    return plan


def test_a_plan_signed_and_approved_verifies(tmp_path: Path) -> None:
    path = save_plan(approved("bob"), tmp_path / "plan.json")
    result = verify_plan(load_plan(path), allowed(), NOW + timedelta(hours=1))
    assert result.planner == "alice" and [a.principal for a in result.approvers] == ["bob"]
    assert "approved by bob" in result.lines()[1] and "CHG0042" in result.lines()[1]


def test_a_changed_step_with_recomputed_hashes_is_refused(tmp_path: Path) -> None:
    path = save_plan(approved("bob"), tmp_path / "plan.json")
    data = json.loads(path.read_text())
    step = data["hosts"][0]["steps"][0]
    step["arguments"]["unattend"] = step["arguments"]["unattend"].replace("iis_smtp", "iis_www")
    data["hash"] = Plan.model_validate(data).content_hash()  # the attacker recomputes it
    for approval in data["approvals"]:  # ... and the one in the approval statement
        statement = json.loads(approval["statement"])
        statement["plan"] = data["hash"]
        approval["statement"] = json.dumps(statement, sort_keys=True, separators=(",", ":"))
    path.write_text(json.dumps(data))
    with pytest.raises(PlanError, match="the planner's signature: the signature does not match"):
        verify_plan(load_plan(path), allowed(), NOW)
    # Re-signed by a key outside the allowed signers: refused for its key.
    forged = sign_plan(load_plan(path), signing_keys().signer("mallory"), "alice")
    with pytest.raises(PlanError, match="does not list"):
        verify_plan(forged, allowed(), NOW)


def test_an_approver_who_re_signs_a_changed_plan_cannot_approve_it() -> None:
    changed = approved("bob").model_copy(update={"title": "other"})
    resigned = sign_plan(changed, signing_keys().signer("bob"), "bob")
    with pytest.raises(PlanError, match="planned this change and cannot approve"):
        approve(resigned, signing_keys().signer("bob"), "bob", NOW)
    # The approval bob made for alice's plan does not carry over either.
    carried = resigned.model_copy(update={"approvals": approved("bob").approvals})
    with pytest.raises(PlanError, match="approves another plan"):
        verify_plan(carried, allowed(), NOW)


def test_an_edited_expiry_is_refused() -> None:
    plan = approved("bob")
    statement = json.loads(plan.approvals[0].statement)
    statement["expires"] = "2099-01-01T00:00:00Z"
    edited = SignedApproval(
        statement=json.dumps(statement, sort_keys=True, separators=(",", ":")),
        signature=plan.approvals[0].signature,
    )
    with pytest.raises(PlanError, match=r"approval 1 \(by 'bob'\): the signature does not match"):
        verify_plan(plan.model_copy(update={"approvals": [edited]}), allowed(), NOW)


def test_expiry_comes_from_the_signed_time() -> None:
    plan = approved("bob", ttl=timedelta(hours=1))
    assert verify_plan(plan, allowed(), NOW + timedelta(minutes=59))
    with pytest.raises(PlanError, match=r"approval 1 \(by 'bob'\): expired at 2026-11-24 10:00"):
        verify_plan(plan, allowed(), NOW + timedelta(minutes=61))
    later = approve(signed(), signing_keys().signer("bob"), "bob", NOW + timedelta(hours=2))
    with pytest.raises(PlanError, match="in the future"):
        verify_plan(later, allowed(), NOW)


def test_an_approval_copied_from_another_plan_is_refused() -> None:
    other = approved("bob")
    mine = signed()  # the same steps, planned again: another id, another time
    with pytest.raises(PlanError, match="approves another plan"):
        verify_plan(mine.model_copy(update={"approvals": other.approvals}), allowed(), NOW)


def test_a_key_not_in_the_allowed_signers_is_refused() -> None:
    plan = approved("mallory")
    with pytest.raises(PlanError, match=r"approval 1 \(by 'mallory'\) is by the key .* does not"):
        verify_plan(plan, allowed(), NOW)
    with pytest.raises(PlanError, match="does not allow the key"):
        approve(signed(), signing_keys().signer("mallory"), "mallory", NOW, allowed=allowed())
    # Listed, but only for other namespaces or at other times.
    keys = signing_keys()
    only_plans = allowed().entries[:1] + tuple(
        parse_allowed_signers(
            f'bob namespaces="remediate-plan@remediate" {keys.public_line("bob")}\n'
            f'carol valid-before="20200101" {keys.public_line("carol")}\n',
            "allowed_signers",
        ).entries
    )
    narrow = AllowedSigners("allowed_signers", only_plans)
    with pytest.raises(PlanError, match="does not allow to sign remediate-approval@remediate"):
        verify_plan(approved("bob"), narrow, NOW)
    with pytest.raises(PlanError, match="only at other times"):
        verify_plan(approved("carol"), narrow, NOW)
    # Signing as someone else's principal with one's own allowed key.
    impostor = approve(signed(), keys.signer("carol"), "bob", NOW)
    with pytest.raises(PlanError, match="listed as carol"):
        verify_plan(impostor, allowed(), NOW)


def raw_approval(plan: Plan, person: str, approver: str) -> Plan:
    """An approval signed by `person`'s key as `approver`, made without `approve` (which
    refuses the planner): what an attacker holding that key could write."""
    keys = signing_keys()
    statement = ApprovalStatement(
        plan=plan.content_hash(),
        planner_key=verify(plan.signature or "", PLAN_NAMESPACE, plan.content()).fingerprint,
        approver=approver,
        at=NOW,
        expires=NOW + timedelta(hours=1),
    ).text()
    signature = sign(keys.signer(person), APPROVAL_NAMESPACE, statement.encode())
    approval = SignedApproval(statement=statement, signature=signature)
    return plan.model_copy(update={"approvals": [*plan.approvals, approval]})


@pytest.mark.parametrize(
    ("extra", "signer", "approver"),
    [
        ("", "alice", "alice"),  # the planner's own key and principal
        ("A.Smith@corp {alice}", "alice", "A.Smith@corp"),  # the key under another principal
        ("ALICE {carol}", "carol", "ALICE"),  # another key of the planner's principal, upper case
        ("alice-laptop,bob2 {mallory}\nBob2 {alice}", "mallory", "alice-laptop"),  # via bob2
    ],
)
def test_the_planners_key_or_person_is_refused_as_approver(
    extra: str, signer: str, approver: str
) -> None:
    keys = signing_keys()
    people = {p: keys.public_line(p) for p in ("alice", "carol", "mallory")}
    trust = allowed(extra.format(**people) + "\n")
    with pytest.raises(PlanError, match="four-eyes"):
        approve(signed(), keys.signer(signer), approver, NOW, allowed=trust)
    with pytest.raises(PlanError, match="four-eyes"):
        verify_plan(raw_approval(signed(), signer, approver), trust, NOW)


def test_four_eyes_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER", "bob")
    monkeypatch.setenv("LOGNAME", "bob")
    with pytest.raises(PlanError, match="four-eyes"):
        verify_plan(raw_approval(signed(), "alice", "bob"), allowed(), NOW)


def test_two_approvals_need_two_people_and_a_replay_counts_once() -> None:
    two = approved("bob", "carol")
    assert len(verify_plan(two, allowed(), NOW, needed=2).approvers) == 2
    one = approved("bob")
    with pytest.raises(PlanError, match=r"needs 2 approval.*it has 1 valid"):
        verify_plan(one, allowed(), NOW, needed=2)
    replayed = one.model_copy(update={"approvals": one.approvals * 2})
    with pytest.raises(PlanError, match="approval 2 is by a person who approved already"):
        verify_plan(replayed, allowed(), NOW, needed=2)
    # The same person's two keys are one approver too.
    keys = signing_keys()
    bob_twice = allowed(f"bob {keys.public_line('mallory')}\n")
    both = approve(one, keys.signer("mallory"), "bob", NOW)
    with pytest.raises(PlanError, match="approved already"):
        verify_plan(both, bob_twice, NOW, needed=2)


def test_a_plan_signature_does_not_pass_for_an_approval() -> None:
    plan = approved("bob")
    swapped = SignedApproval(statement=plan.content().decode(), signature=plan.signature or "")
    with pytest.raises(PlanError, match="not an approval statement"):
        verify_plan(plan.model_copy(update={"approvals": [swapped]}), allowed(), NOW)
    statement = plan.approvals[0].statement
    in_plan_namespace = sign(signing_keys().signer("bob"), PLAN_NAMESPACE, statement.encode())
    crossed = SignedApproval(statement=statement, signature=in_plan_namespace)
    with pytest.raises(PlanError, match="made for 'remediate-plan@remediate'"):
        verify_plan(plan.model_copy(update={"approvals": [crossed]}), allowed(), NOW)


@pytest.mark.parametrize(
    ("damage", "error"),
    [
        (lambda s: s[: len(s) // 2], "not an SSH signature"),
        (lambda s: s.replace("-----END SSH SIGNATURE-----", ""), "not an SSH signature"),
        (lambda s: s.replace("\n", "\n!", 1), "not valid base64"),
        (lambda s: garble(s, 40), "truncated|left over|does not match|not a valid|unsupported"),
        (lambda s: "", "not an SSH signature"),
        (lambda s: reencode(s, lambda b: b[:-10]), "truncated"),
        (lambda s: reencode(s, lambda b: b + b"x"), "left over"),
        (lambda s: reencode(s, lambda b: b"SSHSIG\0\0\0\2" + b[10:]), "version 2"),
    ],
)
def test_a_truncated_or_garbled_signature_is_a_clear_error(damage, error: str) -> None:
    plan = approved("bob")
    broken = plan.model_copy(update={"signature": damage(plan.signature or "")})
    with pytest.raises(PlanError, match=error):
        verify_plan(broken, allowed(), NOW)
    approval = SignedApproval(
        statement=plan.approvals[0].statement, signature=damage(plan.approvals[0].signature)
    )
    with pytest.raises(PlanError, match=error):
        verify_plan(plan.model_copy(update={"approvals": [approval]}), allowed(), NOW)


def blob(armored: str) -> bytes:
    return base64.b64decode("".join(armored.strip().splitlines()[1:-1]))


def armor(data: bytes) -> str:
    text = base64.b64encode(data).decode()
    return f"-----BEGIN SSH SIGNATURE-----\n{text}\n-----END SSH SIGNATURE-----\n"


def reencode(armored: str, change) -> str:
    return armor(change(blob(armored)))


def garble(armored: str, at: int) -> str:
    return reencode(armored, lambda b: b[:at] + bytes([b[at] ^ 0xFF]) + b[at + 1 :])


def test_an_unsigned_plan_of_the_old_format_is_refused_with_the_way_to_re_plan(
    tmp_path: Path,
) -> None:
    path = tmp_path / "plan.json"
    data = json.loads(approved("bob").model_dump_json())
    for key in ("id", "signature", "approvals"):
        data.pop(key)
    data["format"] = "remediate.plan/1"
    data["approval"] = {
        "by": "bob",
        "at": "2026-11-24T09:00:00Z",
        "hash": data["hash"],
        "expires": "2099-01-01T00:00:00Z",
    }
    path.write_text(json.dumps(data))
    with pytest.raises(
        PlanError,
        match=r"an unsigned plan \(remediate.plan/1\).*remediate plan "
        r"INVENTORY --playbook ID --key",
    ):
        load_plan(path)


def test_a_damaged_plan_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    for text, error in [
        ("{not json", "not a plan file"),
        ("[1]", "not a JSON object"),
        ('{"format": "remediate.plan/2"}', "not a valid plan"),
        ('{"format": "other"}', "format 'other'"),
        ("[" * 100_000 + "]" * 100_000, "not a plan file"),
        ('{"format": "remediate.plan/2", "x": NaN}', "not a plan file"),
    ]:
        path.write_text(text)
        with pytest.raises(PlanError, match=error):
            load_plan(path)


# -- fuzzing: only our own clear errors -----------------------------------------------------

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=400) | st.binary(max_size=300).map(armor))
def test_fuzz_the_signature_reader(text: str) -> None:
    try:
        parse_signature(text)
        verify(text, PLAN_NAMESPACE, MESSAGE)
    except SignatureError:
        pass


@FUZZ
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=255))
def test_fuzz_a_valid_signature_with_one_byte_changed(position: int, flip: int) -> None:
    armored = approved_signature()
    raw = blob(armored)
    at = position % len(raw)
    changed = reencode(armored, lambda b: b[:at] + bytes([b[at] ^ flip]) + b[at + 1 :])
    with pytest.raises(SignatureError):
        verify(changed, PLAN_NAMESPACE, MESSAGE)


_SIGNATURE: list[str] = []


def approved_signature() -> str:
    if not _SIGNATURE:
        _SIGNATURE.append(sign(signing_keys().signer("alice"), PLAN_NAMESPACE, MESSAGE))
    return _SIGNATURE[0]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(data=st.data())
def test_fuzz_the_plan_reader(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("fuzz", numbered=True)
    base = json.loads(approved_plan_json())
    choice = data.draw(st.sampled_from(["text", "field", "approval"]))
    if choice == "text":
        text = data.draw(st.text(max_size=300))
    else:
        if choice == "field":
            name = data.draw(st.sampled_from(sorted(base)))
            base[name] = data.draw(JSON)
        else:
            field = data.draw(st.sampled_from(["statement", "signature"]))
            base["approvals"][0][field] = data.draw(st.text(max_size=200) | JSON.map(json.dumps))
        text = json.dumps(base)
    path = folder / "plan.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        plan = load_plan(path)
        verify_plan(plan, allowed(), NOW)
    except PlanError:
        pass


_PLAN: list[str] = []


def approved_plan_json() -> str:
    if not _PLAN:
        _PLAN.append(approved("bob").model_dump_json())
    return _PLAN[0]
