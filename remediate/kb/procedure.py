"""Remediation steps drafted from the procedure an article's RESOLUTION gives.

Why: many articles fix a problem by a procedure (remove and re-add a Windows component,
restart a service or the computer, run a program from Exchange's folder) rather than by a
service pack. A draft whose only step is "see the article" leaves all of that to the reviewer;
here the listed steps become playbook steps, in the article's order.

Steps are data, never code: a kind and a name looked up in a table here or in the catalog
(`remediate.catalog.components`), or a program whose file name is checked and whose folder is
one this module knows. The article's words go only into manual steps' text. A list item that is
not understood becomes a manual step with its text: nothing the article asks for is dropped,
except the clicks that lead to an action drafted as a step (Start, Control Panel, Next, OK).

Reading is one pass over the lines and one over the items: linear in the article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from remediate.catalog.components import COMPONENTS, component_names
from remediate.kb.facts import VERSION_OF
from remediate.kb.read import normalise, split_sections

StepKind = Literal["windows_component", "service", "reboot", "run", "manual"]

MAX_INSTRUCTION = 1500
"""A manual step's text is cut here (with "..."): the step points at the article for the rest."""

# --------------------------------------------------------------------------- names (data)

# Component check boxes as Windows' Add/Remove Windows Components dialog names them (IIS
# details on Windows 2000/2003), to the logical names of remediate.catalog.components.
_COMPONENT_NAMES: dict[str, str] = {
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
assert set(_COMPONENT_NAMES.values()) <= set(COMPONENTS)  # the catalog names every target

# Exchange and IIS services as articles name them, to their service (key) names: Exchange
# Server 2003's from "Services That Are Used by Exchange" (Table B.1, display name and
# abbreviation; technet.microsoft.com/en-us/library/bb124644.aspx), and Exchange 5.5's
# Directory and Internet Mail Service as remediate.kb.draft.SERVICES names them.
_SERVICE_NAMES: dict[str, str] = {
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
_NEEDS_SERVICE_WORD = {"smtp", "directory", "pop3", "imap4"}
_SERVICE_KEYS = {
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
_WHEN_VERSIONS = {"4.0", "5.0", "5.5", "6.0", "6.5"}

_PROGRAM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}\.exe", re.I)
# Exchange's install folder as articles write it (Exchsrvr\Bin, C:\Program Files\Exchsrvr\bin).
_EXCHANGE_BIN = re.compile(r"(?:[A-Za-z]:\\)?(?:Program\s+Files\\)?Exchsrvr\\bin\\?", re.I)
_INTERACTIVE = {"setup.exe"}  # a wizard: never run unattended from a draft

# --------------------------------------------------------------------------- the steps


@dataclass(frozen=True)
class ProcedureStep:
    """One drafted step: what to do (data), for which Exchange, and the article's words."""

    kind: StepKind
    text: str  # the article's words (the instruction of a manual step)
    when_version: str | None = None  # the Exchange version a sub-section is for
    component: str | None = None  # windows_component: logical name (catalog)
    service: str | None = None  # service: key name
    action: str | None = None  # install/remove; start/stop/restart
    program: str | None = None  # run: a file name in Exchange's bin folder
    copied: bool = False  # run: the article copies the program there first

    def playbook_step(self) -> dict[str, Any]:
        """The step as a playbook's remediation entry (see remediate.rules.playbook.Step)."""
        step: dict[str, Any] = {"step": self.kind}
        if self.kind == "windows_component":
            assert self.component is not None
            display = component_names(self.component).display_name
            verb = "Remove" if self.action == "remove" else "Add"
            step |= {"name": f"{verb} {display}", "action": self.action}
            step["component"] = self.component
        elif self.kind == "service":
            step |= {"name": f"{(self.action or 'start').capitalize()} {self.service}"}
            step |= {"service": self.service, "action": self.action}
        elif self.kind == "run":
            assert self.program is not None
            stem = re.sub(r"[^a-z0-9]+", "_", self.program.lower().removesuffix(".exe"))
            step["name"] = f"Run {self.program}"
            step["program"] = f"{{{{ exchange_root }}}}\\bin\\{self.program}"
            if self.copied:
                step["copy_from"] = f"{{{{ {stem}_source }}}}"
                step["copy_sha256"] = f"{{{{ {stem}_sha256 }}}}"
            step |= {"allowed_exit_codes": [0], "otherwise": "manual"}
            step["instruction"] = _cut(self.text)
        elif self.kind == "manual":
            step |= {"name": _short(self.text), "instruction": _cut(self.text)}
        if self.when_version:
            step["when"] = {"exchange_version": self.when_version}
        return step


def _cut(text: str) -> str:
    return text if len(text) <= MAX_INSTRUCTION else text[: MAX_INSTRUCTION - 3].rstrip() + "..."


def _short(text: str) -> str:
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].rstrip(".")
    return first if len(first) <= 70 else first[:67].rstrip() + "..."


# --------------------------------------------------------------------------- lines to items

_MARKER = re.compile(r"[ \t]*+(?:[-*]|o(?=[ \t])|\(?\d{1,2}[.)]|\(?[a-z][.)])[ \t]++(?=\S)")
_RUN_TOGETHER = re.compile(r"(?<=[.!?:])[ \t]++-[ \t]++(?=[A-Z])")  # "... CD. - In the wizard"
_NOTE = re.compile(r"(?:Note|NOTE|Notes)\b")
_DECORATION = re.compile(r"^#{1,6}[ \t]*|\*\*|__")
_EXCHANGE_VERSION = re.compile(
    r"\bExchange(?:[ \t]+Server)?(?:[ \t]+version)?[ \t]+(4\.0|5\.0|5\.5|2000|2003|2007|2010|"
    r"2013|2016|2019)\b",
    re.I,
)
_NO_SCOPE = "*"  # a section for an Exchange version no `when` can name


@dataclass
class _Item:
    text: str  # the item's lines, joined once read (a list while reading: appends stay linear)
    indent: int
    scope: str | None
    segment: int
    lines: list[str] = field(default_factory=list)


def _scope(line: str) -> str | None:
    """The one Exchange version a sub-section heading names (None: all, or several)."""
    named = {VERSION_OF.get(v, v) for v in _EXCHANGE_VERSION.findall(line)}
    if len(named) != 1:
        return None
    version = named.pop()
    return version if version in _WHEN_VERSIONS else _NO_SCOPE


_HEADING = re.compile(
    r"(?:(?:For|On|In)[ \t]+)?(?:Microsoft[ \t]+)?Exchange\b[^.,;]{0,70}|"
    r"((?:Step|Method|Part|Procedure)[ \t]+\d{1,2}\b)[^.,;]{0,70}"
)


def _is_heading(line: str) -> bool:
    """A sub-section's name ("Exchange 2000 Server", "Step 2: Put it back"): it sets the
    Exchange version the items below are for. Other short lines set nothing (a registry key,
    a command, a title in a version's section must not widen that section to all versions)."""
    match = _HEADING.fullmatch(line.rstrip(":").rstrip()) if len(line) <= 80 else None
    return match is not None and (
        match.group(1) is not None or bool(_EXCHANGE_VERSION.search(line))
    )


def _items(resolution: str) -> list[_Item]:
    """The list items of the RESOLUTION, their wrapped lines joined, each with its scope."""
    items: list[_Item] = []
    current: _Item | None = None
    scope: str | None = None
    segment = 0
    blank = False
    for raw in _RUN_TOGETHER.sub("\n- ", resolution).split("\n"):
        line = _DECORATION.sub("", raw.rstrip())
        stripped = line.strip()
        if not stripped:
            blank = current is not None or blank
            continue
        marker = _MARKER.match(line)
        if marker:
            first = line[marker.end() :].strip()
            current = _Item(first, marker.end(), scope, segment, [first])
            items.append(current)
            blank = False
            continue
        indent = len(line) - len(line.lstrip())
        ended = current is None or current.lines[-1][-1] in ".!?:"
        if indent == 0 and (blank or ended) and _is_heading(stripped):
            current, blank = None, False
            scope, segment = _scope(stripped), segment + 1
            continue
        announced = current is not None and current.lines[-1].endswith(":")
        if current is not None and (
            (blank and (indent >= max(current.indent, 2) or announced))
            or (not blank and (indent > 0 or not ended or announced or _NOTE.match(stripped)))
        ):
            current.lines.append(stripped)  # a wrapped line, a note, or what ":" announced
            blank = False
            continue
        current, blank = None, False  # prose between lists: context, not a step
    for item in items:  # one blank between words: the patterns below never retry a blank run
        item.text = " ".join(" ".join(item.lines).split())
    return items


# --------------------------------------------------------------------------- items to units

Kind = Literal["component", "service", "reboot", "run", "copy", "pick", "nav", "note", "other"]


@dataclass
class _Unit:
    kind: Kind
    text: str
    scope: str | None
    segment: int
    value: str | None = None  # component, service or program
    action: str | None = None
    copied: bool = False
    texts: list[str] = field(default_factory=list)


_CLAUSES = re.compile(
    r"(?<=[.!?])[ \t]+(?=[A-Z])|(?<![Ss]top)[ \t]+and[ \t]+then[ \t]+|,[ \t]+and[ \t]+then[ \t]+"
    r"|,[ \t]+and[ \t]+(?=[a-z])|;[ \t]+"
)
# What may come before the verb of an action: where ("In Control Panel, "), and adverbs.
_LEAD = re.compile(
    r"(?:(?:In|On|From|Using|At|After|When)\b[^,]{0,100},[ \t]*)?(?:(?:manually|then|now|"
    r"finally|also|you[ \t]+must|you[ \t]+(?:may[ \t]+)?(?:need|have)[ \t]+to|please)[ \t]+)*",
    re.I,
)
_CONDITION = re.compile(r"(?:If|Unless|Otherwise|Whether|YES|NO)\b")
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
    re.escape(p).replace(r"\ ", r"[ \t]+") for p in sorted(_SERVICE_NAMES, key=len, reverse=True)
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
_BUTTON = re.compile(r"click[ \t]+(Start|Stop|Restart)[ \t]*[.,]?", re.I)
_NET = re.compile(r"\bnet[ \t]+(start|stop)[ \t]+\"?([A-Za-z0-9_]{2,40})\"?", re.I)
_REBOOT = re.compile(
    r"\b(?:re-?start|re-?boot)\b(?:[ \t]+(?:the|your|this|each)\b)?(?:[ \t]+(?:Exchange|Windows|"
    r"Microsoft|Server|affected|computer|server|machine|system|that)\b)*",
    re.I,
)
_REBOOT_OBJECT = re.compile(r"\b(?:computer|server|machine|system|Windows)\b", re.I)
_RUN = re.compile(
    rf"\b(?:run|double-click|execute|start)[ \t]+(?:the[ \t]+)?({_PROGRAM.pattern})"
    r"(?:[ \t]+(?:file|program|tool|utility))?(?:[ \t]+(?:from|in)[ \t]+(?:the[ \t]+)?"
    r"(\S+)[ \t]+folder)?",
    re.I,
)
_COPY = re.compile(
    rf"\bcopy[ \t]+(?:the[ \t]+)?(?:({_PROGRAM.pattern})|this[ \t]+file|the[ \t]+file)\b", re.I
)


def _component(clause: str) -> tuple[str, str] | None:
    """(logical component, install/remove) a clause asks for, if it names a known one."""
    box = _CHECK_BOX.search(clause)
    if box:
        name = _COMPONENT_NAMES.get(" ".join(box.group(2).lower().split()))
        if name:
            return name, "remove" if box.group(1).lower() in ("clear", "uncheck") else "install"
    if _COMPONENT_TOOL.search(clause):
        verb = _COMPONENT_VERB.search(clause)
        while verb:
            name = _COMPONENT_NAMES.get(" ".join(verb.group(2).lower().split()))
            if name:
                word = verb.group(1).lower()
                action = "remove" if word in ("remove", "uninstall") else word
                return name, "install" if action == "add" else action
            verb = _COMPONENT_VERB.search(clause, verb.end())
    return None


def _service(body: str) -> tuple[str, str] | None:
    """(service key name, start/stop/restart) a clause asks for, if it names a known one."""
    net = _NET.search(body)
    if net and net.group(2).lower() in _SERVICE_KEYS:
        return _SERVICE_KEYS[net.group(2).lower()], net.group(1).lower()
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
    if phrase in _NEEDS_SERVICE_WORD and not service_word:
        return None  # "restart SMTP" or "the directory" alone may mean a protocol or a tree
    return _SERVICE_NAMES[phrase]


def _classify(clause: str, scope: str | None, segment: int) -> _Unit:
    """What one clause of a list item asks for: an action only if its verb leads the clause
    and nothing else is asked in it (anything more is left to a manual step)."""
    unit = _Unit("other", clause, scope, segment, texts=[clause])
    if scope == _NO_SCOPE:
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
            run.group(1).lower() not in _INTERACTIVE
            and _EXCHANGE_BIN.fullmatch(folder)
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


def _pick_service(units: list[_Unit], unit: _Unit) -> bool:
    """A service picked in the Services tool, then a button: "Right-click X, and then click
    Stop" is one service step (True: `unit` joined the one before)."""
    button = _BUTTON.fullmatch(unit.text)
    last = units[-1] if units else None
    if button is None or last is None or last.kind not in ("pick", "service"):
        return False
    word = button.group(1).lower()
    if last.kind == "pick":
        last.kind, last.action = "service", word
    elif last.action == "stop" and word == "start":
        last.action = "restart"
    else:
        return False
    last.texts += unit.texts
    return True


def _units(items: list[_Item]) -> list[_Unit]:
    """The clauses of every item, classified; each keeps its words and the link after it."""
    units: list[_Unit] = []
    for item in items:
        first = len(units)
        start = 0
        conditional = False  # after "If ...", "NO." or a question, an action is the reader's call
        for cut in [*_CLAUSES.finditer(item.text), None]:
            end = cut.start() if cut else len(item.text)
            clause = item.text[start:end].strip()
            if clause:
                conditional = conditional or bool(_CONDITION.match(clause))
                unit = _classify(clause, item.scope, item.segment)
                if conditional and unit.kind in (*_ACTIONS, "copy", "reboot"):
                    unit.kind = "other"
                conditional = conditional or clause.endswith("?")
                unit.texts = [item.text[start : cut.end() if cut else end].strip()]
                if not (len(units) > first and _pick_service(units, unit)):
                    units.append(unit)
            start = cut.end() if cut else end
        for unit in units[first:]:
            if unit.kind == "pick":
                unit.kind = "other"  # a service picked for something else (its properties)
    return units


_ACTIONS = ("component", "service", "run")


def _absorb(units: list[_Unit]) -> list[_Unit]:
    """Clicks and notes join the action they lead to (or follow); copies join their run."""
    out: list[_Unit] = []
    i = 0
    while i < len(units):
        unit = units[i]
        if unit.kind not in ("nav", "note"):
            out.append(unit)
            i += 1
            continue
        j = i
        while (
            j < len(units) and units[j].kind in ("nav", "note") and units[j].segment == unit.segment
        ):
            j += 1
        texts = [text for u in units[i:j] for text in u.texts]
        after = units[j] if j < len(units) and units[j].segment == unit.segment else None
        before = out[-1] if out and out[-1].segment == unit.segment else None
        if after is not None and after.kind in _ACTIONS and units[i].kind == "nav":
            after.texts[:0] = texts
        elif before is not None and before.kind in (*_ACTIONS, "copy", "other"):
            before.texts += texts
        elif after is not None and after.kind in ("other", "copy"):
            after.texts[:0] = texts
        else:
            out.append(_Unit("other", " ".join(texts), unit.scope, unit.segment, texts=texts))
        i = j
    merged: list[_Unit] = []
    for unit in out:
        last = merged[-1] if merged and merged[-1].segment == unit.segment else None
        if (
            unit.kind == "run"
            and last is not None
            and last.kind == "copy"
            and (last.value is None or last.value.lower() == (unit.value or "").lower())
        ):
            unit.copied, unit.texts = True, last.texts + unit.texts
            merged[-1] = unit
            continue
        if unit.kind == "copy" and last is not None and last.kind == "copy" and unit.value is None:
            last.texts += unit.texts
            continue
        if unit.kind in ("other", "copy") and last is not None and last.kind in ("other", "copy"):
            last.kind = "other"
            last.texts += unit.texts
            continue
        if unit.kind == "reboot" and last is not None and last.kind == "reboot":
            last.texts += unit.texts
            continue
        merged.append(unit)
    return merged


def _step(unit: _Unit) -> list[ProcedureStep]:
    text = " ".join(unit.texts)
    when = unit.scope if unit.scope != _NO_SCOPE else None
    if unit.kind == "component" and unit.action == "reinstall":
        return [
            ProcedureStep("windows_component", text, when, component=unit.value, action="remove"),
            ProcedureStep("windows_component", text, when, component=unit.value, action="install"),
        ]
    if unit.kind == "component":
        return [ProcedureStep("windows_component", text, when, unit.value, action=unit.action)]
    if unit.kind == "service":
        return [ProcedureStep("service", text, when, service=unit.value, action=unit.action)]
    if unit.kind == "reboot":
        return [ProcedureStep("reboot", text, when)]
    if unit.kind == "run":
        return [ProcedureStep("run", text, when, program=unit.value, copied=unit.copied)]
    return [ProcedureStep("manual", text, when)]


# --------------------------------------------------------------------------- entry points


def resolution_text(text: str) -> str:
    """The article's RESOLUTION sections, in order (normalised text)."""
    text = normalise(text)
    return "\n".join(text[s.start : s.end] for s in split_sections(text) if s.name == "RESOLUTION")


def read_procedure(text: str) -> list[ProcedureStep]:
    """The steps of the procedure the article's RESOLUTION lists ([] when it lists none)."""
    return [step for unit in _absorb(_units(_items(resolution_text(text)))) for step in _step(unit)]


def procedure_steps(text: str) -> list[dict[str, Any]]:
    """The playbook remediation entries drafted from the article's RESOLUTION procedure."""
    return [step.playbook_step() for step in read_procedure(text)]
