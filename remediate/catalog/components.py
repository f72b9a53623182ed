"""Logical Windows components and their names under each OS generation's mechanism (data).

Windows 2000/2003 install optional components through OC Manager (sysocmgr, state in
`...\\Setup\\OC Manager\\Subcomponents`); Vista/2008 through ocsetup package names; 2008 R2
and later through ServerManager/DISM feature names. WMI's Win32_ServerFeature reports the
display name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ComponentNames:
    oc_manager: str  # sysoc.inf subcomponent (Windows 2000/2003)
    ocsetup: str  # Vista/2008 package update name
    server_manager: str  # 2008 R2+ ServerManager / Install-WindowsFeature name
    server_feature: str  # Win32_ServerFeature.Name (what the collector reads on 6.x)


COMPONENTS: dict[str, ComponentNames] = {
    "smtp": ComponentNames("iis_smtp", "IIS-SMTP", "SMTP-Server", "SMTP Server"),
    "iis_common": ComponentNames(
        "iis_common", "IIS-WebServerRole", "Web-Server", "Web Server (IIS)"
    ),
    "iis_www": ComponentNames("iis_www", "IIS-WebServer", "Web-WebServer", "Web Server"),
    "nntp": ComponentNames("iis_nntp", "IIS-NNTP", "NNTP-Server", "NNTP Server"),
}


def component_names(name: str) -> ComponentNames:
    """The names of a logical component; KeyError names the known ones."""
    try:
        return COMPONENTS[name]
    except KeyError:
        known = ", ".join(sorted(COMPONENTS))
        raise KeyError(f"unknown component {name!r} (known: {known})") from None
