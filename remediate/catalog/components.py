"""Logical Windows components and their names under each OS generation's mechanism (data).

Windows 2000/2003 install optional components through OC Manager (sysocmgr, state in
`...\\Setup\\OC Manager\\Subcomponents`); Vista/2008 through ocsetup package names; 2008 R2
and later through ServerManager (Add-WindowsFeature) names, or DISM feature names where
ServerManager's PowerShell module cannot be used (the WSH step).

State on Windows 6.x is read from WMI's Win32_ServerFeature. Its `Name` is the *display*
name ("Display name of the server feature, such as "File Server"...") and so follows the
language of the installation (a German Windows Server says "Webserver (IIS)"): it must never
be compared. Its `ID` (uint32, Key) is language neutral; the IDs used here are from the ID
table of Microsoft's "Win32_ServerFeature class" page
(https://learn.microsoft.com/en-us/windows/win32/wmisdk/win32-serverfeature, ID property):
2 = Web Server (IIS), 48 = SMTP Server, 140 = Web Server (role service of Web Server (IIS)).
No ID exists for NNTP: the NNTP service is not part of Windows Server 2008 (IIS 7 dropped it),
so `feature_id` is 0 (no Win32_ServerFeature has ID 0) and the collector reports it absent.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ComponentNames:
    oc_manager: str  # sysoc.inf subcomponent (Windows 2000/2003)
    ocsetup: str  # Vista/2008 package update name (ocsetup / pkgmgr /iu:)
    server_manager: str  # 2008 R2+ ServerManager / Add-WindowsFeature name (language neutral)
    feature_id: int  # Win32_ServerFeature.ID (language neutral; 0: no such feature)
    dism: str  # 2008 R2+ DISM /featurename: (the WSH step has no ServerManager module)
    display_name: str  # Win32_ServerFeature.Name on an English Windows: for people, never compared


COMPONENTS: dict[str, ComponentNames] = {
    # SMTP Server: ID 48 (Win32_ServerFeature class page, ID table). ServerManager name
    # "SMTP-Server": unverified against a Microsoft page this round (used by Salt's
    # win_smtp_server docs, "The Windows features 'SMTP-Server' and 'Web-WMI' must be
    # installed"). ocsetup package name on Windows Server 2008 "IIS-SMTP": UNVERIFIED, no
    # public source found. DISM name on 2008 R2 "Smtpsvc-Service-Update-Name": UNVERIFIED for
    # 2008 R2 (seen in public scripts for Windows Server 2012 and later).
    "smtp": ComponentNames(
        "iis_smtp", "IIS-SMTP", "SMTP-Server", 48, "Smtpsvc-Service-Update-Name", "SMTP Server"
    ),
    # Web Server (IIS), ID 2; ocsetup/pkgmgr and DISM "IIS-WebServerRole", "IIS-WebServer":
    # "Installing IIS 7.0 on Windows Server 2008" (learn.microsoft.com, cc771209(v=ws.10)) and
    # MicrosoftDocs/iis-docs "IIS 7.0 on Server Core" (start /w pkgmgr /iu:IIS-WebServerRole;...).
    # ServerManager "Web-Server": the Windows Server 2008 role list with command IDs quoted in
    # blogs.msmvps.com/erikr/2007/07 ("Web Server (IIS) [Web-Server]"), not confirmed on a
    # Microsoft page; "Web-WebServer": unverified.
    "iis_common": ComponentNames(
        "iis_common", "IIS-WebServerRole", "Web-Server", 2, "IIS-WebServerRole", "Web Server (IIS)"
    ),
    "iis_www": ComponentNames(
        "iis_www", "IIS-WebServer", "Web-WebServer", 140, "IIS-WebServer", "Web Server"
    ),
    # NNTP: no Windows Server 2008 feature (no Win32_ServerFeature ID); the 6.x names are
    # placeholders that no 6.x host has (a step fails with Windows' unknown-feature error).
    "nntp": ComponentNames("iis_nntp", "IIS-NNTP", "NNTP-Server", 0, "IIS-NNTP", "NNTP Server"),
}


def component_names(name: str) -> ComponentNames:
    """The names of a logical component; KeyError names the known ones."""
    try:
        return COMPONENTS[name]
    except KeyError:
        known = ", ".join(sorted(COMPONENTS))
        raise KeyError(f"unknown component {name!r} (known: {known})") from None
