"""Server features of the lab's Windows 6.x hosts: what Win32_ServerFeature returns, by language.

On Windows Server 2008 and later a host's `components` are keyed by the ServerManager name
(`SMTP-Server`), the one name that is the same in every language. WMI's Win32_ServerFeature
gives each installed feature its `ID` (uint32, language neutral: the ID table of Microsoft's
"Win32_ServerFeature class" page, https://learn.microsoft.com/en-us/windows/win32/wmisdk/
win32-serverfeature) and its `Name`, the display name in the installation's language.

This table is the lab's own, written apart from `remediate.catalog.components`, so that a
wrong catalog entry fails a test instead of agreeing with itself.

Display names: en-US from the same Microsoft page. de-DE: "Webserver (IIS)" and "SMTP-Server"
as the German Windows Server 2008/2008 R2 help names them (a mirror of the de-de Server
Manager help: forsenergy.com/de-de/rmt/html/366abb93-02d9-45cd-aa37-20d5c2545c5f.htm and
forsenergy.com/de-de/features/html/82e82411-5d15-4dd8-a80b-8f140b9d59d3.htm); the exact
WMI strings on a German installation are unverified, as is "Webserver" for the role service.
ja-JP: unverified (written after the ja-jp translation of the Microsoft page); they only need
to differ from the English names, which is what breaks a script that compares names.
"""

from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("en-US", "de-DE", "ja-JP")


@dataclass(frozen=True)
class ServerFeature:
    id: int  # Win32_ServerFeature.ID
    parent_id: int  # Win32_ServerFeature.ParentID (0: a role or top-level feature)
    names: dict[str, str]  # Win32_ServerFeature.Name by installation language
    ocsetup: str = ""  # Windows Server 2008 package name, "" when the lab knows none
    dism: str = ""  # 2008 R2+ DISM feature name, "" when the lab knows none


SERVER_FEATURES: dict[str, ServerFeature] = {
    "Web-Server": ServerFeature(
        2,
        0,
        {"en-US": "Web Server (IIS)", "de-DE": "Webserver (IIS)", "ja-JP": "Web サーバー (IIS)"},
        ocsetup="IIS-WebServerRole",
        dism="IIS-WebServerRole",
    ),
    "Web-WebServer": ServerFeature(
        140,
        2,
        {"en-US": "Web Server", "de-DE": "Webserver", "ja-JP": "Web サーバー"},
        ocsetup="IIS-WebServer",
        dism="IIS-WebServer",
    ),
    "SMTP-Server": ServerFeature(
        48,
        0,
        {"en-US": "SMTP Server", "de-DE": "SMTP-Server", "ja-JP": "SMTP サーバー"},
        # No public source confirms SMTP's ocsetup (2008) or DISM (2008 R2) name: the lab
        # knows none, so a step that uses one fails here as an unknown name would on Windows.
    ),
}


def feature_for(name: str, mechanism: str) -> str | None:
    """The ServerManager name of the feature a step names under a mechanism, None if unknown.

    Windows matches these names case-insensitively."""
    wanted = name.lower()
    for key, feature in SERVER_FEATURES.items():
        given = {"ocsetup": feature.ocsetup, "dism": feature.dism}.get(mechanism, key)
        if given and given.lower() == wanted:
            return key
    return None


def server_feature_rows(components: dict[str, bool], language: str) -> list[dict[str, object]]:
    """Win32_ServerFeature instances of a 6.x host: one per installed feature."""
    rows: list[dict[str, object]] = []
    for key, installed in components.items():
        feature = SERVER_FEATURES.get(key)
        if installed and feature is not None:
            rows.append(
                {"ID": feature.id, "ParentID": feature.parent_id, "Name": feature.names[language]}
            )
    return rows
