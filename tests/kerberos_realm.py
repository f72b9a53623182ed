"""A real MIT Kerberos realm for the tests: `LAB.LOCAL`, one KDC on a free loopback port.

The lab's hosts and the client under test need a KDC that behaves as a domain controller does
for Kerberos: it issues tickets for `HTTP/<host>` service principals, refuses wrong passwords,
expired passwords and unknown principals, and answers on a port that can also be skewed or
absent. MIT's own binaries (Debian krb5-kdc, krb5-admin-server, krb5-user) are driven directly:
`kdb5_util` creates the database, `kadmin.local` adds principals and writes the keytab,
`krb5kdc -n` serves it in the foreground until the session ends. Everything lives in one
temporary folder; `KRB5_CONFIG` and `KRB5CCNAME` point into it for the whole session, so no test
reads the machine's /etc/krb5.conf or the user's own ticket cache.

Like a Windows domain: users need pre-authentication (an encrypted timestamp, as Active
Directory requires by default), host names are not canonicalised through DNS
(`dns_canonicalize_hostname = false`, `rdns = false`: loopback addresses have no DNS), and
every `*.lab.local` name maps to the realm. A Windows computer account registers `HOST/` for
its DNS and NetBIOS names and HTTP maps onto HOST; MIT has no such mapping, so
:meth:`KerberosRealm.add_host` registers `HTTP/` for both names, in lower case because MIT's
`krb5_sname_to_principal` lower-cases the host part (krb5_sname_to_principal(3)).

Missing binaries or Python modules skip the tests, except under `CI=true`, where they fail (as
the browser tests do for a missing Chromium).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REALM = "LAB.LOCAL"
DOMAIN = REALM.lower()
BINARIES = ("kdb5_util", "kadmin.local", "krb5kdc", "kinit")
MODULES = ("gssapi", "kerberos")
SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")
# Debian's libfaketime (package faketime) shifts the clock of the process it is preloaded in.
FAKETIME_LIBRARIES = (
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
)
START_TIMEOUT = 15.0
ENCTYPES = "aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal"
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class RealmError(RuntimeError):
    """An MIT tool failed; the message carries its output (never a password: none is argv)."""


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI: CI must run every Kerberos test."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


def _which(name: str) -> str | None:
    search = os.pathsep.join([os.environ.get("PATH", ""), *SBIN])
    return shutil.which(name, path=search)


def faketime_library() -> str | None:
    """Debian's libfaketime, when installed (apt-get install faketime)."""
    return next((lib for lib in FAKETIME_LIBRARIES if Path(lib).exists()), None)


def host_fqdn(netbios: str) -> str:
    """The DNS name of a lab host from its NetBIOS name: `EX2016-01` -> `ex2016-01.lab.local`."""
    return f"{netbios.lower()}.{DOMAIN}"


def _free_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (the KDC listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise RealmError("no port free for both TCP and UDP on 127.0.0.1")


def _krb5_conf(kdc_port: int, ccache: Path, *, kdc_timesync: bool = True) -> str:
    """The client side configuration, as a domain member would have it (see module doc)."""
    return f"""[libdefaults]
    default_realm = {REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    ignore_acceptor_hostname = false
    udp_preference_limit = 1
    kdc_timesync = {1 if kdc_timesync else 0}
    default_ccache_name = FILE:{ccache}
    permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96

[realms]
    {REALM} = {{
        kdc = 127.0.0.1:{kdc_port}
    }}

[domain_realm]
    .{DOMAIN} = {REALM}
    {DOMAIN} = {REALM}
"""


def _kdc_conf(directory: Path, kdc_port: int) -> str:
    return f"""[kdcdefaults]
    kdc_listen = 127.0.0.1:{kdc_port}
    kdc_tcp_listen = 127.0.0.1:{kdc_port}

[realms]
    {REALM} = {{
        database_name = {directory / "principal"}
        key_stash_file = {directory / "stash"}
        acl_file = {directory / "kadm5.acl"}
        supported_enctypes = {ENCTYPES}
        max_life = 10h
        max_renewable_life = 1d
    }}

[logging]
    kdc = FILE:{directory / "kdc.log"}
"""


@dataclass
class KerberosRealm:
    """A running realm: its files, its KDC, and the operations tests need."""

    realm: str
    directory: Path
    krb5_config: Path
    kdc_conf: Path
    kdc_port: int
    keytab: Path
    _kdc: subprocess.Popen[bytes] | None = None
    _extra_kdcs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _services: set[str] = field(default_factory=set)
    _users: set[str] = field(default_factory=set)

    # -- principals ---------------------------------------------------------------------------

    def add_user(self, name: str, password: str, *, expired: bool = False) -> str:
        """Add a user who must pre-authenticate; `expired`: the password has expired (as
        "User must change password at next logon"). Returns the principal `name@LAB.LOCAL`.
        Adding a user again sets its password and expiry anew (tests share the realm)."""
        principal = name if "@" in name else f"{name}@{self.realm}"
        expiry = '"2020-01-01 00:00:00 UTC"' if expired else "never"
        if principal in self._users:  # tests of a session share the realm: set it anew
            self._kadmin(f"cpw -pw {password} {principal}", secret=password)
            self._kadmin(f"modprinc +requires_preauth -pwexpire {expiry} {principal}")
            return principal
        options = f"+requires_preauth -pwexpire {expiry}"
        self._kadmin(f"addprinc {options} -pw {password} {principal}", secret=password)
        self._users.add(principal)
        return principal

    def add_service(self, spn: str) -> None:
        """Add a service principal with a random key and write that key to :attr:`keytab`."""
        principal = spn if "@" in spn else f"{spn}@{self.realm}"
        if principal in self._services:
            return
        self._kadmin(f"addprinc -randkey {principal}")
        self._kadmin(f"ktadd -k {self.keytab} {principal}")
        self._services.add(principal)

    def add_host(self, netbios: str) -> str:
        """Register a lab host as a computer account would be: `HTTP/<fqdn>` and
        `HTTP/<netbios>`; returns the fqdn clients name as the SPN host."""
        fqdn = host_fqdn(netbios)
        self.add_service(f"HTTP/{fqdn}")
        self.add_service(f"HTTP/{netbios.lower()}")
        return fqdn

    def kinit(self, principal: str, password: str, ccache: Path) -> None:
        """A user's own `kinit` into `ccache` (the password goes to its standard input)."""
        env = self._env()
        result = subprocess.run(
            [_tool("kinit"), "-c", f"FILE:{ccache}", principal],
            input=f"{password}\n".encode(),
            env=env,
            capture_output=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode(errors="replace")
            raise RealmError(f"kinit {principal} failed: {output.replace(password, '***')}")

    # -- KDCs that misbehave ------------------------------------------------------------------

    @contextlib.contextmanager
    def skewed_kdc(self, seconds: int = 900, *, timesync: bool = False) -> Iterator[Path]:
        """A second KDC over the same database whose clock runs `seconds` ahead, through
        Debian's libfaketime. While the block runs, KRB5_CONFIG names a krb5.conf that points
        at it (yielded, for subprocesses). `timesync=False` (default) also turns off MIT's
        `kdc_timesync`, so the client keeps its own clock, as a Windows client does: its
        pre-authentication timestamp is refused with KRB_AP_ERR_SKEW (RFC 4120 5.9.1)."""
        library = faketime_library()
        if library is None:
            unavailable("libfaketime is missing (apt-get install -y faketime)")
        port = _free_port()
        conf = self.directory / f"krb5-skewed-{port}.conf"
        kdc_conf = self.directory / f"kdc-skewed-{port}.conf"
        kdc_conf.write_text(_kdc_conf(self.directory, port), encoding="utf-8")
        conf.write_text(
            _krb5_conf(port, self.directory / "ccache", kdc_timesync=timesync), encoding="utf-8"
        )
        env = self._env(kdc_conf=kdc_conf)
        env |= {"LD_PRELOAD": str(library), "FAKETIME": f"{seconds:+d}s"}
        process = _start_kdc(env, port, self.directory / f"kdc-skewed-{port}.out")
        self._extra_kdcs.append(process)
        try:
            with _environment(KRB5_CONFIG=str(conf)):
                yield conf
        finally:
            _stop(process)
            self._extra_kdcs.remove(process)

    @contextlib.contextmanager
    def unreachable_kdc(self) -> Iterator[Path]:
        """A krb5.conf whose KDC port has nothing listening (a DC that is down or firewalled);
        KRB5_CONFIG names it while the block runs (yielded, for subprocesses)."""
        port = _free_port()
        conf = self.directory / f"krb5-unreachable-{port}.conf"
        conf.write_text(_krb5_conf(port, self.directory / "ccache"), encoding="utf-8")
        with _environment(KRB5_CONFIG=str(conf)):
            yield conf

    def kdc_log(self) -> str:
        """What the KDC logged (principal names and error codes; never keys or passwords)."""
        path = self.directory / "kdc.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    # -- internals ----------------------------------------------------------------------------

    def _env(self, *, kdc_conf: Path | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME")}
        env["KRB5_CONFIG"] = str(self.krb5_config)
        env["KRB5_KDC_PROFILE"] = str(kdc_conf or self.kdc_conf)
        env["KRB5CCNAME"] = f"FILE:{self.directory / 'ccache'}"
        return env

    def _kadmin(self, query: str, *, secret: str | None = None) -> None:
        """One kadmin.local query, read from standard input so a password is never in argv."""
        result = subprocess.run(
            [_tool("kadmin.local"), "-r", self.realm],
            input=f"{query}\nquit\n".encode(),
            env=self._env(),
            capture_output=True,
            timeout=30,
            check=False,
        )
        output = (result.stdout + result.stderr).decode(errors="replace")
        if secret:
            output = output.replace(secret, "***")
            query = query.replace(secret, "***")
        failed = result.returncode != 0 or any(
            marker in output for marker in ("while creating", "while adding", "No such", "error")
        )
        if failed:
            raise RealmError(f"kadmin.local {query!r} failed: {output}")

    def stop(self) -> None:
        for process in [*self._extra_kdcs, self._kdc]:
            if process is not None:
                _stop(process)


def _tool(name: str) -> str:
    path = _which(name)
    if path is None:
        raise RealmError(f"{name} is not installed")
    return path


def _die_with_parent() -> None:
    """`preexec_fn`: the KDC gets SIGTERM when the test process dies, even by SIGKILL
    (Linux prctl PR_SET_PDEATHSIG), so no KDC outlives a crashed session."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _start_kdc(env: dict[str, str], port: int, output: Path) -> subprocess.Popen[bytes]:
    """`krb5kdc -n` (foreground) and wait until its TCP port answers."""
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [_tool("krb5kdc"), "-n", "-r", REALM],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RealmError(f"krb5kdc exited with {process.returncode}: {output.read_text()}")
        with socket.socket() as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.05)
    _stop(process)
    raise RealmError(f"krb5kdc did not listen on 127.0.0.1:{port} within {START_TIMEOUT:.0f}s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def create_realm(directory: Path) -> KerberosRealm:
    """Create the database, the admin ACL and the configuration files, and start the KDC."""
    port = _free_port()
    krb5_config = directory / "krb5.conf"
    kdc_conf = directory / "kdc.conf"
    krb5_config.write_text(_krb5_conf(port, directory / "ccache"), encoding="utf-8")
    kdc_conf.write_text(_kdc_conf(directory, port), encoding="utf-8")
    (directory / "kadm5.acl").write_text(f"*/admin@{REALM} *\n", encoding="utf-8")
    realm = KerberosRealm(
        realm=REALM,
        directory=directory,
        krb5_config=krb5_config,
        kdc_conf=kdc_conf,
        kdc_port=port,
        keytab=directory / "services.keytab",
    )
    env = realm._env()
    master = os.urandom(24).hex()
    created = subprocess.run(
        [_tool("kdb5_util"), "-r", REALM, "create", "-s", "-W"],
        input=f"{master}\n{master}\n".encode(),
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    if created.returncode != 0:
        output = (created.stdout + created.stderr).decode(errors="replace")
        raise RealmError(f"kdb5_util create failed: {output.replace(master, '***')}")
    realm._kdc = _start_kdc(env, port, directory / "kdc.out")
    return realm


def _check_prerequisites() -> None:
    missing = [name for name in BINARIES if _which(name) is None]
    if missing:
        unavailable(
            f"MIT Kerberos tools missing: {', '.join(missing)} "
            "(apt-get install -y krb5-kdc krb5-admin-server krb5-user libkrb5-dev)"
        )
    for module in MODULES:
        try:
            __import__(module)
        except ImportError:
            unavailable(f"the Python module {module} is missing (pip install -e '.[kerberos]')")


@pytest.fixture(scope="session")
def kerberos_realm() -> Iterator[KerberosRealm]:
    """The session's realm; KRB5_CONFIG and KRB5CCNAME point into it until the session ends."""
    _check_prerequisites()
    directory = Path(tempfile.mkdtemp(prefix="remediate-krb5-"))
    realm = None
    try:
        realm = create_realm(directory)
        with _environment(
            KRB5_CONFIG=str(realm.krb5_config), KRB5CCNAME=f"FILE:{directory / 'ccache'}"
        ):
            yield realm
    finally:
        if realm is not None:
            realm.stop()
        shutil.rmtree(directory, ignore_errors=True)
