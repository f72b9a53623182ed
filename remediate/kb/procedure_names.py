"""The names a procedure's steps may use: Windows components, Exchange and IIS services,
Exchange versions and programs, as articles write them, to the names a playbook uses.

Why a module: a drafted step holds only names looked up here (or in the catalog), never the
article's words; the tables are data the clause readers share, kept apart from how they read.
"""

from __future__ import annotations

import re

from remediate.catalog.components import COMPONENTS

# Component check boxes as Windows' Add/Remove Windows Components dialog names them (IIS
# details on Windows 2000/2003), to the logical names of remediate.catalog.components.
COMPONENT_NAMES: dict[str, str] = {
    "smtp service": "smtp",
    "smtp server": "smtp",
    "simple mail transfer protocol (smtp) service": "smtp",
    "nntp service": "nntp",
    "nntp server": "nntp",
    "network news transfer protocol (nntp) service": "nntp",
    "world wide web service": "iis_www",
    "world wide web (www) service": "iis_www",
    "world wide web server": "iis_www",
    "www service": "iis_www",
    "common files": "iis_common",
}
assert set(COMPONENT_NAMES.values()) <= set(COMPONENTS)  # the catalog names every target

# Exchange and IIS services as articles name them, to their service (key) names: Exchange
# Server 2003's from "Services That Are Used by Exchange" (Table B.1, display name and
# abbreviation; technet.microsoft.com/en-us/library/bb124644.aspx), and Exchange 5.5's
# Directory and Internet Mail Service as remediate.kb.draft.SERVICES names them.
SERVICE_NAMES: dict[str, str] = {
    "mta stacks": "MSExchangeMTA",
    "message transfer agent (mta)": "MSExchangeMTA",
    "message transfer agent": "MSExchangeMTA",
    "mta": "MSExchangeMTA",
    "information store": "MSExchangeIS",
    "system attendant": "MSExchangeSA",
    "directory": "MSExchangeDS",
    "internet mail service": "MSExchangeIMC",
    "internet mail connector": "MSExchangeIMC",
    "event service": "MSExchangeES",
    "site replication service": "MSExchangeSRS",
    "simple mail transfer protocol (smtp)": "SMTPSVC",
    "smtp": "SMTPSVC",
    "iis admin": "IISADMIN",
    "routing engine": "RESvc",
    "pop3": "POP3Svc",
    "imap4": "IMAP4Svc",
    "world wide web publishing": "W3SVC",
}
NEEDS_SERVICE_WORD = {"smtp", "directory", "pop3", "imap4"}
SERVICE_KEYS = {
    name.lower(): name
    for name in (
        "MSExchangeMTA", "MSExchangeIS", "MSExchangeSA", "MSExchangeDS", "MSExchangeIMC",
        "MSExchangeES", "MSExchangeSRS", "SMTPSVC", "IISADMIN", "W3SVC", "RESvc", "POP3Svc",
        "IMAP4Svc",
    )
}  # fmt: skip

# Exchange versions a `when: {exchange_version: ...}` can name: the versions the collector
# reports for Exchange 4.0-2003 (remediate.probes.collect.EXCHANGE_PRODUCTS). A section for a
# later version cannot be told apart by that fact, so its steps stay manual.
WHEN_VERSIONS = {"4.0", "5.0", "5.5", "6.0", "6.5"}

PROGRAM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}\.exe", re.I)
# Exchange's install folder as articles write it (Exchsrvr\Bin, C:\Program Files\Exchsrvr\bin).
EXCHANGE_BIN = re.compile(r"(?:[A-Za-z]:\\)?(?:Program\s+Files\\)?Exchsrvr\\bin\\?", re.I)
INTERACTIVE = {"setup.exe"}  # a wizard: never run unattended from a draft
