"""The lab's network side, each module after its specification: HTTP (h11), NTLM/SPNEGO, TLS,
WS-Management envelopes and faults ([MS-WSMV]), the WinRS shell service, and an SSH server."""
