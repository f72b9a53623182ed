"""Kerberos for WinRM: the run's private tickets, and failures in a domain administrator's words.

Tickets. In managed mode (`ansible_winrm_kinit_mode=managed`, or a password with no mode set)
the run gets a ticket-granting ticket from the KDC with the inventory's password, through
python-gssapi (`acquire_cred_with_password`, then `store_cred_into` a FILE cache of its own),
into a private directory (0700) that is removed when the run ends, on error or Ctrl-C too
(`TicketCache.close`, and a finalizer at interpreter exit). The user's own cache is never read
or written in this mode. With `ansible_winrm_kerberos_delegation` the ticket must be
forwardable, which gssapi cannot ask for: MIT's `kinit -f` gets it then, as Ansible does.
One ticket per distinct principal, shared by that principal's hosts; a principal whose
password the KDC refused is not asked for again in the run (every further try with a wrong
password counts towards the domain's account lockout threshold).

Threads. The audit connects to hosts concurrently and `KRB5CCNAME` is process-wide, so it is
never changed: each thread names the cache it uses only around its own requests, through MIT's
thread-specific default cache (`gss_krb5_ccache_name`: "sets the default credential cache name
for the calling thread", MIT krb5 GSSAPI documentation, gssapi.rst), which pykerberos (used
by pywinrm) honours because both call the same libgssapi_krb5. Manual mode uses whatever
`KRB5CCNAME` or the default cache holds (a `kinit` by the user).

Errors. pykerberos and gssapi report MIT's com_err codes (the minor status); the names below
are MIT's (krb5.h, from lib/krb5/error_tables/krb5_err.et and kdc5_err.et).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from remediate.errors import AuthenticationError, ConfigurationError, TransportError

# pywinrm's vendored requests_kerberos logs every failed GSS step with `log.exception`: with no
# handler configured, Python's last-resort handler would print a traceback on stderr.
_VENDOR_LOG = logging.getLogger("winrm.vendor.requests_kerberos")
_VENDOR_LOG.addHandler(logging.NullHandler())
_VENDOR_LOG.propagate = False

EXTRA_HINT = (
    "pip install 'remediate[kerberos]' (pykerberos and gssapi; they build against the MIT "
    "Kerberos headers: libkrb5-dev or krb5-devel)"
)

# MIT krb5 error codes (krb5.h). pykerberos gives them signed, gssapi unsigned.
KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN = -1765328378
KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN = -1765328377
KRB5KDC_ERR_POLICY = -1765328372
KRB5KDC_ERR_ETYPE_NOSUPP = -1765328370
KRB5KDC_ERR_CLIENT_REVOKED = -1765328366
KRB5KDC_ERR_KEY_EXP = -1765328361
KRB5KDC_ERR_PREAUTH_FAILED = -1765328360
KRB5KRB_AP_ERR_BAD_INTEGRITY = -1765328353
KRB5KRB_AP_ERR_TKT_EXPIRED = -1765328352
KRB5KRB_AP_ERR_SKEW = -1765328347
KRB5KRB_AP_ERR_MODIFIED = -1765328343
KRB5_CC_NOTFOUND = -1765328243
KRB5_KDCREP_SKEW = -1765328236
KRB5_REALM_UNKNOWN = -1765328230
KRB5_KDC_UNREACH = -1765328228
KRB5_FCC_NOFILE = -1765328189
KRB5_REALM_CANT_RESOLVE = -1765328164
KRB5_CONFIG_NODEFREALM = -1765328160


@dataclass(frozen=True)
class Failure:
    """What one MIT error means for a domain administrator."""

    names: str
    message: str
    hint: str


_WRONG_PASSWORD = Failure(
    "KRB5KDC_ERR_PREAUTH_FAILED",
    "the KDC refused the password of {principal} (wrong password)",
    "check the password in the inventory or vault; repeated failures lock the account out "
    "(Account lockout threshold)",
)
_CLOCK_SKEW = Failure(
    "KRB5KRB_AP_ERR_SKEW",
    "clock skew too great between this computer and the KDC or host",
    "Kerberos allows 5 minutes by default (Maximum tolerance for computer clock "
    "synchronization): synchronise this computer's clock with the domain (NTP)",
)
_UNREACHABLE = Failure(
    "KRB5_KDC_UNREACH",
    "no KDC of the realm answered",
    "check that a domain controller is reachable on port 88 (TCP and UDP) and that krb5.conf "
    "names it, or that DNS has its _kerberos SRV records",
)
FAILURES: dict[int, Failure] = {
    KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN: Failure(
        "KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN",
        "the KDC does not know the user {principal} (unknown user)",
        "check ansible_user: user@REALM, the realm being the domain's DNS name in capitals",
    ),
    KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN: Failure(
        "KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN",
        "the KDC does not know the service principal {spn} (unknown SPN)",
        "Kerberos needs the host's DNS name, not an IP address: set "
        "ansible_winrm_kerberos_hostname_override (or ansible_host) to the name its SPN is "
        "registered for (setspn -L <computer>); check ansible_winrm_service",
    ),
    KRB5KDC_ERR_KEY_EXP: Failure(
        "KRB5KDC_ERR_KEY_EXP",
        "the password of {principal} has expired (or must be changed at next logon)",
        "change the account's password (or clear 'User must change password at next "
        "logon'), then update the inventory or vault",
    ),
    KRB5KDC_ERR_PREAUTH_FAILED: _WRONG_PASSWORD,
    # Without pre-authentication the client finds the password wrong itself, decrypting the
    # KDC's reply (MIT: "Decrypt integrity check failed").
    KRB5KRB_AP_ERR_BAD_INTEGRITY: _WRONG_PASSWORD,
    KRB5KDC_ERR_CLIENT_REVOKED: Failure(
        "KRB5KDC_ERR_CLIENT_REVOKED",
        "the account {principal} is disabled or locked out",
        "ask a domain administrator to enable or unlock it",
    ),
    KRB5KDC_ERR_POLICY: Failure(
        "KRB5KDC_ERR_POLICY",
        "the KDC's policy refused the ticket for {principal}",
        "check the account's logon restrictions (logon hours, allowed workstations, "
        "authentication policy silos)",
    ),
    KRB5KDC_ERR_ETYPE_NOSUPP: Failure(
        "KRB5KDC_ERR_ETYPE_NOSUPP",
        "the KDC and this computer share no encryption type",
        "allow AES in krb5.conf (permitted_enctypes) and on the account "
        "(msDS-SupportedEncryptionTypes)",
    ),
    KRB5KRB_AP_ERR_SKEW: _CLOCK_SKEW,
    KRB5_KDCREP_SKEW: _CLOCK_SKEW,
    KRB5KRB_AP_ERR_TKT_EXPIRED: Failure(
        "KRB5KRB_AP_ERR_TKT_EXPIRED",
        "the Kerberos ticket has expired",
        "run kinit again (manual mode), or give the password so remediate gets the ticket",
    ),
    KRB5KRB_AP_ERR_MODIFIED: Failure(
        "KRB5KRB_AP_ERR_MODIFIED",
        "the host could not decrypt the ticket (its SPN belongs to another account)",
        "look for a duplicate SPN (setspn -X) or a computer account whose password changed",
    ),
    KRB5_KDC_UNREACH: _UNREACHABLE,
    KRB5_REALM_UNKNOWN: Failure(
        "KRB5_REALM_UNKNOWN",
        "no KDC is known for the realm of {principal}",
        "write the realm in capitals as the domain's DNS name (user@CORP.EXAMPLE.COM) and "
        "give its KDCs in krb5.conf [realms] or DNS _kerberos SRV records",
    ),
    KRB5_REALM_CANT_RESOLVE: _UNREACHABLE,
    KRB5_CC_NOTFOUND: Failure(
        "KRB5_CC_NOTFOUND",
        "no Kerberos ticket for {principal} in the credential cache",
        "run `kinit {principal}` first (manual mode), or give the password (managed mode)",
    ),
    KRB5_FCC_NOFILE: Failure(
        "KRB5_FCC_NOFILE",
        "no Kerberos credential cache (no ticket)",
        "run `kinit user@REALM` first (manual mode), or give the password (managed mode)",
    ),
    KRB5_CONFIG_NODEFREALM: Failure(
        "KRB5_CONFIG_NODEFREALM",
        "no default realm is configured",
        "write the user as user@REALM, or set default_realm in krb5.conf",
    ),
}


def _signed(code: int) -> int:
    """A com_err code as MIT's headers write it (gssapi reports the unsigned 32-bit value)."""
    code &= 0xFFFFFFFF
    return code - (1 << 32) if code & 0x80000000 else code


def failure_for(code: int) -> Failure | None:
    return FAILURES.get(_signed(code))


# pywinrm's requests_kerberos: `KerberosExchangeError("authGSSClientStep() failed: (('major
# text', 851968), ('minor text', -1765328377))")`: the codes are in the text.
_STATUS = re.compile(r",\s*(?P<code>-?\d{5,})\s*\)")


def _codes(exc: BaseException) -> list[int]:
    """MIT minor codes carried by a gssapi, pykerberos or requests_kerberos error."""
    minor = getattr(exc, "min_code", None)
    if isinstance(minor, int):
        return [minor]
    codes: list[int] = []
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, tuple) and len(arg) == 2 and isinstance(arg[1], int):
            codes.append(arg[1])
    if not codes:
        codes = [int(match["code"]) for match in _STATUS.finditer(str(exc))]
    return codes


def is_kerberos_error(exc: BaseException) -> bool:
    """Whether `exc` is a Kerberos library's failure (found by class, the libraries being
    optional)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"GSSError", "KerberosExchangeError", "GSSErrorBase", "KinitFailed"})


def kerberos_failure(
    exc: BaseException, host: str, principal: str = "", spn: str = ""
) -> TransportError:
    """The host's AuthenticationError for a Kerberos library's error: what MIT said, in words
    and by name, with a hint; never the library's text (it may quote names, never secrets,
    but it is not ours to show)."""
    for code in reversed(_codes(exc)):
        failure = failure_for(code)
        if failure is not None:
            principal = principal or "the user"
            return AuthenticationError(
                "Kerberos: "
                + failure.message.format(principal=principal, spn=spn or "of the host")
                + f" ({failure.names})",
                host=host,
                hint=failure.hint.format(principal=principal),
            )
    codes = ", ".join(str(_signed(c)) for c in _codes(exc)) or "none"
    return AuthenticationError(
        f"Kerberos failed ({type(exc).__name__}, MIT codes {codes})",
        host=host,
        hint="klist shows the tickets in the cache; KRB5_TRACE=/dev/stderr traces the library",
    )


def missing_library(host: str) -> ConfigurationError:
    return ConfigurationError(
        "Kerberos needs pykerberos and gssapi, which are not installed", host=host, hint=EXTRA_HINT
    )


# --- the run's tickets -----------------------------------------------------------------------


def _wipe(directory: str) -> None:
    """Overwrite then remove the cache files (a ticket's session key is a credential)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            with contextlib.suppress(OSError), open(entry.path, "r+b") as handle:
                size = os.fstat(handle.fileno()).st_size
                handle.write(b"\0" * size)
    shutil.rmtree(directory, ignore_errors=True)


# Caches holding tickets now, so the command can remove them as it ends (close_all), not only
# when each is collected.
_LIVE: weakref.WeakSet[TicketCache] = weakref.WeakSet()


def close_all() -> None:
    """Remove the tickets of every cache of this process (the CLI calls it as a command ends)."""
    for cache in list(_LIVE):
        cache.close()


class TicketCache:
    """The run's private Kerberos tickets: one FILE cache per principal in a 0700 directory.

    Nothing is created until the first ticket is asked for. `close()` removes the directory;
    so does a finalizer when the object is collected or the interpreter exits (Ctrl-C included),
    whichever comes first.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._principal_locks: dict[str, threading.Lock] = {}
        self._caches: dict[str, str] = {}
        self._refused: dict[str, TransportError] = {}
        self._directory: str | None = None
        self._finalizer: weakref.finalize | None = None  # type: ignore[type-arg]
        self._made = 0  # cache files named so far
        self.acquired = 0  # tickets asked of the KDC (one per principal)

    @property
    def directory(self) -> Path | None:
        return Path(self._directory) if self._directory else None

    def _dir(self) -> str:
        with self._lock:
            if self._directory is None:
                self._directory = tempfile.mkdtemp(prefix="remediate-krb5-")  # mode 0700
                self._finalizer = weakref.finalize(self, _wipe, self._directory)
                _LIVE.add(self)
            return self._directory

    def _next(self) -> int:
        with self._lock:
            self._made += 1
            return self._made

    def _principal_lock(self, principal: str) -> threading.Lock:
        with self._lock:
            return self._principal_locks.setdefault(principal, threading.Lock())

    def ccache_for(
        self, principal: str, password: str, host: str, *, forwardable: bool = False
    ) -> str:
        """The cache name (`FILE:...`) holding a ticket-granting ticket for `principal`.

        The first caller for a principal asks the KDC; the others wait for it and share the
        ticket. A refusal is remembered and raised again for each host of that principal.
        `forwardable` (for ansible_winrm_kerberos_delegation) asks for a ticket the host may
        be given, as Ansible's `kinit -f`.
        """
        key = f"{principal} forwardable" if forwardable else principal
        with self._principal_lock(principal):
            if key in self._caches:
                return self._caches[key]
            if principal in self._refused:
                refused = self._refused[principal]
                raise type(refused)(refused.message, host=host, hint=refused.hint)
            name = f"FILE:{os.path.join(self._dir(), f'principal-{self._next()}')}"
            try:
                _acquire(principal, password, name, forwardable)
            except Exception as exc:
                if not is_kerberos_error(exc):
                    raise
                error = kerberos_failure(exc, host, principal)
                self._refused[principal] = error
                raise error from None
            with self._lock:
                self.acquired += 1
                self._caches[key] = name
            return name

    def close(self) -> None:
        """Remove every ticket of the run (idempotent)."""
        with self._lock:
            finalizer, self._finalizer = self._finalizer, None
            self._directory = None
            self._caches.clear()
            self._refused.clear()
        if finalizer is not None:
            finalizer()

    def __enter__(self) -> TicketCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _acquire(principal: str, password: str, ccache: str, forwardable: bool = False) -> None:
    """Ask the KDC for `principal`'s ticket-granting ticket and store it in `ccache` only.

    python-gssapi cannot ask for a forwardable ticket (krb5.conf's `forwardable` decides), so
    a ticket for delegation comes from MIT's `kinit -f` when it is installed, as Ansible gets
    it; without kinit, krb5.conf's `forwardable = true` is what makes delegation work.
    """
    kinit = shutil.which("kinit") if forwardable else None
    if kinit is not None:
        _kinit(kinit, principal, password, ccache)
        return
    import gssapi
    import gssapi.raw

    name = gssapi.Name(principal, gssapi.NameType.kerberos_principal)
    acquired = gssapi.raw.acquire_cred_with_password(
        name, password.encode("utf-8"), usage="initiate"
    )
    gssapi.raw.store_cred_into(
        {b"ccache": ccache.encode("utf-8")},
        acquired.creds,
        usage="initiate",
        overwrite=True,
        set_default=True,
    )


class KinitFailed(Exception):
    """MIT kinit refused; `min_code` is the MIT code its message names (0: none known)."""

    def __init__(self, min_code: int) -> None:
        super().__init__(f"kinit failed (MIT code {min_code})")
        self.min_code = min_code


# MIT's messages (krb5_err.et, kdc5_err.et and kinit's own) as kinit prints them in the C locale.
_KINIT_MESSAGES = (
    ("Password incorrect", KRB5KDC_ERR_PREAUTH_FAILED),
    ("Preauthentication failed", KRB5KDC_ERR_PREAUTH_FAILED),
    ("Decrypt integrity check failed", KRB5KRB_AP_ERR_BAD_INTEGRITY),
    ("not found in Kerberos database", KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN),
    ("Password has expired", KRB5KDC_ERR_KEY_EXP),
    ("Password expired", KRB5KDC_ERR_KEY_EXP),
    ("credentials have been revoked", KRB5KDC_ERR_CLIENT_REVOKED),
    ("Clock skew too great", KRB5KRB_AP_ERR_SKEW),
    ("Cannot contact any KDC", KRB5_KDC_UNREACH),
    ("Cannot find KDC for realm", KRB5_REALM_UNKNOWN),
)


def _kinit(kinit: str, principal: str, password: str, ccache: str) -> None:
    """`kinit -f -c CCACHE PRINCIPAL` with the password on its standard input (never argv),
    in a session of its own so it reads no terminal (as Ansible runs it)."""
    env = {**os.environ, "KRB5CCNAME": ccache, "LC_ALL": "C"}
    try:
        done = subprocess.run(
            [kinit, "-f", "-c", ccache, principal],
            input=(password + "\n").encode("utf-8"),
            capture_output=True,
            env=env,
            timeout=60,
            start_new_session=True,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        raise KinitFailed(KRB5_KDC_UNREACH) from None
    if done.returncode != 0:
        said = (done.stdout + done.stderr).decode("utf-8", errors="replace")
        code = next((c for text, c in _KINIT_MESSAGES if text in said), 0)
        raise KinitFailed(code)


@contextlib.contextmanager
def thread_ccache(ccache: str | None) -> Iterator[None]:
    """Within the block, this thread's Kerberos calls use `ccache` (None: change nothing).

    Afterwards the thread goes back to the process default (`KRB5CCNAME` or the user's
    default cache), which is what manual mode uses.
    """
    if ccache is None:
        yield
        return
    import gssapi.raw

    gssapi.raw.krb5_ccache_name(ccache.encode("utf-8"))
    try:
        yield
    finally:
        gssapi.raw.krb5_ccache_name(None)


def kerberos_available() -> bool:
    """Whether pykerberos (pywinrm's Kerberos) and gssapi (managed tickets) import."""
    try:
        import gssapi  # noqa: F401
        import kerberos  # noqa: F401
    except ImportError:
        return False
    return True
