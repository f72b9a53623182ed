"""What one clause of a procedure's list item asks for: add or remove a Windows component,
start or stop a service, restart the computer, run or copy a program, a click that leads there,
a note, or something else (a manual step).

Why a module: an action is drafted only when its verb leads the clause and it names something
known (procedure_names) and nothing more is asked in it; those patterns are most of the reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from remediate.kb.procedure_items import NO_SCOPE
from remediate.kb.procedure_names import (
    COMPONENT_NAMES,
    EXCHANGE_BIN,
    INTERACTIVE,
    NEEDS_SERVICE_WORD,
    PROGRAM,
    SERVICE_KEYS,
    SERVICE_NAMES,
)

Kind = Literal["component", "service", "reboot", "run", "copy", "pick", "nav", "note", "other"]


@dataclass
class Unit:
    kind: Kind
    text: str
    scope: str | None
    segment: int
    value: str | None = None  # component, service or program
    action: str | None = None
    copied: bool = False
    texts: list[str] = field(default_factory=list)


# What may come before the verb of an action: where ("In Control Panel, "), and adverbs.
_LEAD = re.compile(
    r"(?:(?:In|On|From|Using|At|After|When)\b[^,]{0,100},[ \t]*)?(?:(?:manually|then|now|"
    r"finally|also|you[ \t]+must|you[ \t]+(?:may[ \t]+)?(?:need|have)[ \t]+to|please)[ \t]+)*",
    re.I,
)
_MORE = re.compile(r"\band\b|,(?![ \t]*which\b)", re.I)  # "Restart X, press F8": more asked
# The clicks that lead to Windows' component and service tools, and a wizard's buttons: what
# such a clause asks for is drafted as the step it leads to. A click on anything else (a tab, a
# setting, an object) changes something, and stays in a manual step.
_NAV_TARGET = (
    r"(?:the[ \t]+)?(?:Start|Settings|Control[ \t]+Panel|Add[ \t]*(?:/|\\|or)[ \t]*Remove[ \t]+"
    r"(?:Programs|Windows[ \t]+Components)|Windows[ \t]+Components(?:[ \t]+Wizard)?|Details|Next|"
    r"Finish|OK|Yes|Close|Programs|Administrative[ \t]+Tools|Services|Windows[ \t]+Setup|"
    r"Internet[ \t]+Information[ \t]+Services(?:[ \t]+\(IIS\))?)"
    r"(?:[ \t]+(?:button|tab|icon|(?:two|three)[ \t]+times))?"
)
_NAV_CLICK = (
    rf"(?:(?:double-click|click|point[ \t]+to|open|select)[ \t]+{_NAV_TARGET}|"
    r"press(?:ing)?[ \t]+(?:ENTER|RETURN))"
)
_NAV = re.compile(
    rf"(?:(?:In|On|From)\b[^,]{{0,80}},[ \t]*)?{_NAV_CLICK}(?:,?[ \t]+{_NAV_CLICK})*[ \t]*[.,]?",
    re.I,
)
_DESCRIPTIVE = re.compile(r"(?:The|This|These|That|It|A|An|Note|NOTE)\b")
_CHECK_BOX = re.compile(
    r"\b(clear|select|check|uncheck)\b(?:[^.;]{0,200}?\bthe)?[ \t]+(?:Add[ \t]+the[ \t]+)?"
    r"\"?([A-Za-z][\w ()/-]{1,60}?)\"?[ \t]+check[ \t]*box",
    re.I,
)
_COMPONENT_VERB = re.compile(
    r"\b(remove|uninstall|reinstall|install|add)\b[ \t]+(?:the[ \t]+)?([A-Za-z][\w ()/-]{1,60}?)"
    r"(?=[ \t]+(?:component|by|from|with|using|in|through|$)|[,.]|$)",
    re.I,
)
_COMPONENT_TOOL = re.compile(
    r"Add(?:/|[ \t]+or[ \t]+)Remove[ \t]+(?:Programs|Windows[ \t]+Components)|"
    r"Windows[ \t]+Components[ \t]+Wizard",
    re.I,
)
_SERVICE_PHRASE = "|".join(
    re.escape(p).replace(r"\ ", r"[ \t]+") for p in sorted(SERVICE_NAMES, key=len, reverse=True)
)
_SERVICE = re.compile(
    r"\b(stop[ \t]+and[ \t]+(?:then[ \t]+)?(?:re-?)?start|re-?start|start|stop)[ \t]+"
    r"(?:the[ \t]+)?(?:Microsoft[ \t]+)?(?:Exchange[ \t]+(?:Server[ \t]+)?)?"
    rf"({_SERVICE_PHRASE})(?:[ \t]+\([A-Za-z]{{2,6}}\))?(?:[ \t]+(service(?!s)))?",
    re.I,
)
_PICK = re.compile(
    r"(?:right-click|click|select)[ \t]+(?:the[ \t]+)?(?:Microsoft[ \t]+)?"
    rf"(?:Exchange[ \t]+(?:Server[ \t]+)?)?({_SERVICE_PHRASE})(?:[ \t]+\([A-Za-z0-9]{{2,12}}\))?"
    r"(?:[ \t]+(service))?(?:,?[ \t]+(?:and[ \t]+)?(?:then[ \t]+)?click[ \t]+(Start|Stop|Restart))?"
    r"[ \t]*[.,]?",
    re.I,
)
_NET = re.compile(r"\bnet[ \t]+(start|stop)[ \t]+\"?([A-Za-z0-9_]{2,40})\"?", re.I)
_REBOOT = re.compile(
    r"\b(?:re-?start|re-?boot)\b(?:[ \t]+(?:the|your|this|each)\b)?(?:[ \t]+(?:Exchange|Windows|"
    r"Microsoft|Server|affected|computer|server|machine|system|that)\b)*",
    re.I,
)
_REBOOT_OBJECT = re.compile(r"\b(?:computer|server|machine|system|Windows)\b", re.I)
_RUN = re.compile(
    rf"\b(?:run|double-click|execute|start)[ \t]+(?:the[ \t]+)?({PROGRAM.pattern})"
    r"(?:[ \t]+(?:file|program|tool|utility))?(?:[ \t]+(?:from|in)[ \t]+(?:the[ \t]+)?"
    r"(\S+)[ \t]+folder)?",
    re.I,
)
_COPY = re.compile(
    rf"\bcopy[ \t]+(?:the[ \t]+)?(?:({PROGRAM.pattern})|this[ \t]+file|the[ \t]+file)\b", re.I
)


def _component(clause: str) -> tuple[str, str] | None:
    """(logical component, install/remove) a clause asks for, if it names a known one."""
    box = _CHECK_BOX.search(clause)
    if box:
        name = COMPONENT_NAMES.get(" ".join(box.group(2).lower().split()))
        if name:
            return name, "remove" if box.group(1).lower() in ("clear", "uncheck") else "install"
    if _COMPONENT_TOOL.search(clause):
        verb = _COMPONENT_VERB.search(clause)
        while verb:
            name = COMPONENT_NAMES.get(" ".join(verb.group(2).lower().split()))
            if name:
                word = verb.group(1).lower()
                action = "remove" if word in ("remove", "uninstall") else word
                return name, "install" if action == "add" else action
            verb = _COMPONENT_VERB.search(clause, verb.end())
    return None


def _service(body: str) -> tuple[str, str] | None:
    """(service key name, start/stop/restart) a clause asks for, if it names a known one."""
    net = _NET.search(body)
    if net and net.group(2).lower() in SERVICE_KEYS:
        return SERVICE_KEYS[net.group(2).lower()], net.group(1).lower()
    match = _SERVICE.match(body)
    if not match or _MORE.search(body, match.end()):
        return None
    service = _service_phrase(match.group(2), match.group(3))
    if service is None:
        return None
    verb = " ".join(match.group(1).lower().split())
    action = "restart" if verb.startswith(("stop and", "re")) else verb
    return service, action


def _service_phrase(phrase: str, service_word: str | None) -> str | None:
    """The key name of a service as named; "SMTP" or "directory" only with "service"."""
    phrase = " ".join(phrase.lower().split())
    if phrase in NEEDS_SERVICE_WORD and not service_word:
        return None  # "restart SMTP" or "the directory" alone may mean a protocol or a tree
    return SERVICE_NAMES[phrase]


def classify(clause: str, scope: str | None, segment: int) -> Unit:
    """What one clause of a list item asks for: an action only if its verb leads the clause
    and nothing else is asked in it (anything more is left to a manual step)."""
    unit = Unit("other", clause, scope, segment, texts=[clause])
    if scope == NO_SCOPE:
        return unit  # a section for a version a `when` cannot name: by hand
    lead = _LEAD.match(clause)
    body = clause[lead.end() if lead else 0 :]
    run = _RUN.match(body)
    reboot = _REBOOT.match(body)
    if (found := _component(clause)) is not None:
        unit.kind, (unit.value, unit.action) = "component", found
    elif (found := _service(body)) is not None:
        unit.kind, (unit.value, unit.action) = "service", found
    elif run is not None:
        folder = (run.group(2) or "").rstrip(",.")
        if (
            run.group(1).lower() not in INTERACTIVE
            and EXCHANGE_BIN.fullmatch(folder)
            and not _MORE.search(body, run.end())
        ):
            unit.kind, unit.value = "run", run.group(1)
    elif (copy := _COPY.match(body)) is not None:
        unit.kind, unit.value = "copy", copy.group(1)
    elif reboot is not None and _REBOOT_OBJECT.search(reboot.group(0)):
        rest = body[reboot.end() :]
        if not re.match(r"[ \t]*\(?services?\b", rest, re.I) and not _MORE.search(rest):
            unit.kind = "reboot"
    elif (pick := _PICK.fullmatch(body)) and _service_phrase(pick.group(1), pick.group(2)):
        unit.kind, unit.value = "pick", _service_phrase(pick.group(1), pick.group(2))
        if pick.group(3):
            unit.kind, unit.action = "service", pick.group(3).lower()
    elif _NAV.fullmatch(clause):
        unit.kind = "nav"
    elif _DESCRIPTIVE.match(clause):
        unit.kind = "note"
    return unit
