"""pywinrm's transport, for the logons the lean HTTP path does not carry.

Kerberos, CredSSP, client certificates, a proxy from the environment, and encryption asked of
a logon other than NTLM (pywinrm then says why it cannot) go through pywinrm and requests, as
they always did. This module is imported only for such a host, so a run over Basic or NTLM
never loads either library. It adapts pywinrm's transport to what PreformattedProtocol
expects: its exceptions become wsman_errors', and requests' become ours with the words the
rest of the WinRM transport gives them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from winrm.exceptions import InvalidCredentialsError, WinRMError, WinRMTransportError
from winrm.protocol import Protocol

from remediate.errors import CertificateError, ConnectError, HostTimeoutError, TransportError
from remediate.transport.settings import WinRMSettings
from remediate.transport.wsman_errors import (
    CredentialsRefused,
    broke,
    first_line,
    raise_for_status,
)

Hook = Callable[..., None]


class PywinrmTransport:
    """pywinrm's Transport for one host, raising wsman_errors' exceptions."""

    def __init__(self, settings: WinRMSettings, operation_timeout: int, read_timeout: int) -> None:
        # Protocol checks the settings as it always did (timeouts, a transport's modules) and
        # builds the transport; its own sending and fault handling are not used.
        self.pywinrm: Any = Protocol(  # pywinrm's Transport (read by tests)
            endpoint=settings.endpoint,
            transport=settings.auth,  # type: ignore[arg-type]
            username=settings.username,
            password=settings.password,
            server_cert_validation="validate" if settings.validate_certificate else "ignore",
            ca_trust_path=settings.ca_trust_path or "legacy_requests",
            message_encryption=settings.message_encryption,
            operation_timeout_sec=operation_timeout,
            read_timeout_sec=read_timeout,
            service=settings.service,
            kerberos_delegation=settings.kerberos_delegation,
            kerberos_hostname_override=settings.kerberos_hostname_override,
            cert_pem=settings.cert_pem,
            cert_key_pem=settings.cert_key_pem,
        ).transport
        self.on_refusal: Hook | None = None  # sees each answer, to note a 401's schemes
        self.on_response: Hook | None = None  # -vvv: each HTTP exchange's sizes
        self._watch_refusals()

    @property
    def encryption(self) -> bool:
        return bool(self.pywinrm.encryption)

    def build_session(self) -> requests.Session:
        # With message encryption, pywinrm authenticates here: a refusal can come now.
        session: requests.Session = _translated(self.pywinrm.build_session)
        # pywinrm merges the environment's proxy settings into the session as it builds it;
        # after that, requests would read the whole environment again for every request (a
        # sixth of the controller's CPU, bench/audit.py).
        session.trust_env = False
        if self.on_response is not None:
            session.hooks["response"].append(self.on_response)
        return session

    def close_session(self) -> None:
        self.pywinrm.close_session()

    def send_message(self, message: str) -> bytes:
        return bytes(_translated(lambda: self.pywinrm.send_message(message)))

    def _watch_refusals(self) -> None:
        """Note the schemes a host offers when it answers 401, to say why it refused.

        The hook goes on each request (pywinrm makes the session inside build_session and
        authenticates there when it encrypts), after the authentication's own hook: it sees
        the last answer, with the earlier legs of the exchange in its history.
        """
        send = self.pywinrm._send_message_request

        def watched(session: requests.Session, prepared: requests.PreparedRequest) -> Any:
            if self.on_refusal is not None:
                prepared.register_hook("response", self.on_refusal)
            return send(session, prepared)

        self.pywinrm._send_message_request = watched


def _translated(call: Callable[[], Any]) -> Any:
    """`call()`, with pywinrm's refusal and HTTP errors raised as wsman_errors' (a fault's
    text is read as the lean path reads it)."""
    try:
        return call()
    except InvalidCredentialsError:
        raise CredentialsRefused("the host rejected the credentials") from None
    except WinRMTransportError as exc:
        raise_for_status(exc.code, (exc.response_text or "").encode("utf-8"))


def requests_failure(exc: BaseException, endpoint: str, host: str) -> TransportError | None:
    """requests' connection errors in our words; None for anything else."""
    if isinstance(exc, requests.exceptions.SSLError):
        return CertificateError(
            f"TLS certificate of {endpoint} not trusted: {first_line(exc)}",
            host=host,
            hint="give the CA with ansible_winrm_ca_trust_path",
        )
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return broke(HostTimeoutError(f"connecting to {endpoint} timed out", host=host))
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return broke(HostTimeoutError(f"{endpoint} did not answer in time", host=host))
    if isinstance(exc, requests.exceptions.ConnectionError):
        return broke(ConnectError(f"cannot connect to {endpoint}: {first_line(exc)}", host=host))
    return None


def is_pywinrm_error(exc: BaseException) -> bool:
    """pywinrm's own refusal of a setting or an answer (its other errors are mapped above)."""
    return isinstance(exc, WinRMError)
