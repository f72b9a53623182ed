"""What every inventory source adds to, then the host variables merged in Ansible's order.

Ansible's inventory plugins (INI, YAML, host lists) all write into one `InventoryData`: groups,
hosts, parent/child links and each group's and host's *own* variables. Several `-i` sources
add to the same data, in order. Only when every source is read are the groups reconciled (a
group without a parent becomes a child of `all`; a host in no other group lands in
`ungrouped`) and each host's variables merged, layer over layer, as ansible-core's
`VariableManager.get_vars` does with the default `VARIABLE_PRECEDENCE`
(lib/ansible/vars/manager.py; "Understanding variable precedence" in Ansible's docs):

1. the inventory's variables of `all`, then of the host's other groups, shallowest first
   (depth, then `ansible_group_priority`, then name: `sort_groups`);
2. `group_vars/all` beside each source, then `group_vars/<group>` in the same group order;
3. the host's own inventory variables;
4. `host_vars/<host>` beside each source.

A later layer replaces a whole variable (Ansible's default `hash_behaviour = replace`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from remediate.errors import InputError
from remediate.inventory.model import Group, Host, Inventory, Origin

Assignment = tuple[str, Any, Origin]
"""One variable as a layer sets it: name, value, where it was written."""


class VarsFiles(Protocol):
    """`group_vars/` and `host_vars/` beside the sources (see `remediate.inventory.vars_files`)."""

    def for_groups(self, names: Sequence[str]) -> Iterable[Assignment]:
        """The variables of these groups, in the order they apply (later wins)."""
        ...

    def for_host(self, name: str) -> Iterable[Assignment]:
        """The variables of this host, in the order they apply (later wins)."""
        ...


@dataclass
class _GroupDraft:
    name: str
    origin: Origin | None
    vars: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    priority: int = 1


@dataclass
class _HostDraft:
    name: str
    origin: Origin
    vars: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, Origin] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)


class InventoryData:
    """Groups, hosts and their own variables, as the sources add them; `build` merges."""

    def __init__(self) -> None:
        self.groups: dict[str, _GroupDraft] = {}
        self.hosts: dict[str, _HostDraft] = {}
        self.links: dict[tuple[str, str], Origin] = {}
        for name in ("all", "ungrouped"):
            self.groups[name] = _GroupDraft(name, None)
        self.add_child("all", "ungrouped", Origin("<implicit>"))

    # what sources add

    def add_group(self, name: str, origin: Origin | None) -> None:
        """Declare a group (again: nothing changes)."""
        if name not in self.groups:
            self.groups[name] = _GroupDraft(name, origin)

    def add_host(self, name: str, group: str, origin: Origin) -> None:
        """Put a host in a group, declaring both as needed."""
        self.add_group(group, origin)
        host = self.hosts.setdefault(name, _HostDraft(name, origin))
        if group not in host.groups:
            host.groups.append(group)
            self.groups[group].hosts.append(name)

    def add_child(self, parent: str, child: str, origin: Origin) -> None:
        """Make `child` a child group of `parent` (a loop is found by `build`)."""
        if (parent, child) in self.links:  # a dict: `in draft.children` was quadratic
            return
        if child == parent:
            raise _error(origin, f"making {child!r} a child of {parent!r} creates a loop of groups")
        self.add_group(parent, origin)
        self.add_group(child, origin)
        self.links[(parent, child)] = origin
        self.groups[parent].children.append(child)
        self.groups[child].parents.append(parent)

    def set_group_var(self, group: str, key: str, value: Any, origin: Origin) -> None:
        """A group's own variable; `ansible_group_priority` sets the group's priority."""
        draft = self.groups[group]
        if key == "ansible_group_priority":
            draft.priority = _priority(value, origin)
            return
        draft.vars[key], draft.origins[key] = value, origin

    def set_host_var(self, host: str, key: str, value: Any, origin: Origin) -> None:
        """A host's own variable."""
        draft = self.hosts[host]
        draft.vars[key], draft.origins[key] = value, origin

    def conceal(self, file: str) -> None:
        """Mark every variable written in `file` as read from a vault (an encrypted file)."""
        for draft in (*self.groups.values(), *self.hosts.values()):
            for key, origin in draft.origins.items():
                if origin.file == file and origin.via is None:
                    draft.origins[key] = Origin(origin.file, origin.line, "vault")

    # the whole inventory

    def build(self, path: str, vars_files: VarsFiles | None = None) -> Inventory:
        """Reconcile the groups and merge each host's variables (see the module's note)."""
        self._check_loops()
        for name, draft in self.groups.items():
            if name != "all" and not draft.parents:
                self.add_child("all", name, draft.origin or Origin("<implicit>"))
        self._ancestor_cache: dict[tuple[str, ...], list[str]] = {}
        self._reconcile_ungrouped()
        self._ancestor_cache = {}  # memberships are final from here on
        depths = self._depths()
        groups = {name: _group(draft, depths[name]) for name, draft in self.groups.items()}
        order = Inventory("", (), groups).hosts_of("all")
        merger = _Merger(groups, vars_files)
        hosts = tuple(
            merger.host(self.hosts[name], self._ancestors(self.hosts[name].groups))
            for name in order
        )
        return Inventory(path, hosts, MappingProxyType(groups), first_met=tuple(self.hosts))

    def _check_loops(self) -> None:
        """Refuse a loop of groups, naming the link that closed it, in one linear pass.

        (Walking a child's descendants at each link is quadratic in a long chain.) Groups are
        taken off from the top as their parents are; what stays has a parent that stays, so
        walking up the parents from any of them comes round to a loop.
        """
        waiting = {name: len(draft.parents) for name, draft in self.groups.items()}
        ready = [name for name, count in waiting.items() if count == 0]
        while ready:
            for child in self.groups[ready.pop()].children:
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
        stuck = {name for name, count in waiting.items() if count > 0}
        if not stuck:
            return
        path: dict[str, None] = {}
        order = {name: index for index, name in enumerate(self.groups)}
        name = min(stuck, key=lambda group: order[group])
        while name not in path:
            path[name] = None
            name = next(parent for parent in self.groups[name].parents if parent in stuck)
        walked = list(path)
        loop = walked[walked.index(name) :]
        edges = [(loop[(i + 1) % len(loop)], loop[i]) for i in range(len(loop))]
        links = list(self.links)
        parent, child = max(edges, key=links.index)
        raise _error(
            self.links[(parent, child)],
            f"making {child!r} a child of {parent!r} creates a loop of groups",
        )

    def _reconcile_ungrouped(self) -> None:
        ungrouped = self.groups["ungrouped"]
        leaving: set[str] = set()  # removed in one pass: list.remove per host is quadratic
        for host in self.hosts.values():
            memberships = set(self._ancestors(host.groups)) - {"all", "ungrouped"}
            if "ungrouped" in host.groups and memberships:
                host.groups.remove("ungrouped")
                leaving.add(host.name)
            elif not memberships and "ungrouped" not in host.groups:
                host.groups.append("ungrouped")
                ungrouped.hosts.append(host.name)
        if leaving:
            ungrouped.hosts = [name for name in ungrouped.hosts if name not in leaving]

    def _ancestors(self, names: Iterable[str]) -> list[str]:
        key = tuple(names)
        cached = self._ancestor_cache.get(key)
        if cached is None:
            cached = self._ancestor_cache[key] = self._walk_ancestors(key)
        return cached

    def _walk_ancestors(self, names: Iterable[str]) -> list[str]:
        found: dict[str, None] = {}
        stack = list(names)
        while stack:
            name = stack.pop()
            if name not in found:
                found[name] = None
                stack += self.groups[name].parents
        return list(found)

    def _depths(self) -> dict[str, int]:
        """Longest distance from `all`, as Ansible's group depth (the graph has no loop)."""
        waiting = {name: len(draft.parents) for name, draft in self.groups.items()}
        depths = dict.fromkeys(self.groups, 0)
        ready = [name for name, count in waiting.items() if count == 0]
        while ready:
            name = ready.pop()
            for child in self.groups[name].children:
                depths[child] = max(depths[child], depths[name] + 1)
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
        return depths


class _Merger:
    """Each host's variables, layer over layer; a group's files are read once for all hosts."""

    def __init__(self, groups: Mapping[str, Group], vars_files: VarsFiles | None) -> None:
        self.groups = groups
        self.vars_files = vars_files
        self._group_layers: dict[tuple[str, ...], tuple[dict[str, Any], dict[str, Origin]]] = {}

    def host(self, draft: _HostDraft, ancestors: list[str]) -> Host:
        applied = sorted(
            (self.groups[name] for name in ancestors),
            key=lambda group: (group.depth, group.priority, group.name),
        )
        names = tuple(group.name for group in applied)
        layers = self._group_layers.get(names)
        if layers is None:  # hosts in the same groups share one merge of the group layers
            layers = self._group_layers[names] = self._groups(applied)
        merged, origins = dict(layers[0]), dict(layers[1])
        merged.update(draft.vars)
        origins.update(draft.origins)
        if self.vars_files is not None:
            for key, value, origin in self.vars_files.for_host(draft.name):
                merged[key], origins[key] = value, origin
        return Host(
            name=draft.name,
            vars=MappingProxyType(merged),
            groups=tuple(reversed(names)),
            origins=MappingProxyType(origins),
            source=draft.origin,
        )

    def _groups(self, applied: list[Group]) -> tuple[dict[str, Any], dict[str, Origin]]:
        merged: dict[str, Any] = {}
        origins: dict[str, Origin] = {}
        for group in applied:
            merged.update(group.vars)
            origins.update(group.origins)
        if self.vars_files is not None:
            # Ansible asks for `all` first, then the other groups (sort_groups order).
            others = [group.name for group in applied if group.name != "all"]
            for names in (["all"], others):
                for key, value, origin in self.vars_files.for_groups(names):
                    merged[key], origins[key] = value, origin
        return merged, origins


def _group(draft: _GroupDraft, depth: int) -> Group:
    return Group(
        name=draft.name,
        vars=MappingProxyType(dict(draft.vars)),
        hosts=tuple(draft.hosts),
        children=tuple(draft.children),
        parents=tuple(draft.parents),
        depth=depth,
        priority=draft.priority,
        origins=MappingProxyType(dict(draft.origins)),
        source=draft.origin,
    )


def _priority(value: Any, origin: Origin) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise _error(
            origin, f"ansible_group_priority must be a number, not {value!r:.60}"
        ) from None


def _error(origin: Origin, message: str, hint: str | None = None) -> InputError:
    return InputError(message, file=origin.file, line=origin.line, hint=hint)
