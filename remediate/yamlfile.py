"""YAML that remembers where things are, so validation errors can name the file and line.

Shared by every YAML input (playbooks, waivers, the lab's fleet files); it knows nothing of
what the documents mean.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError


class YamlInputError(ValueError):
    """YAML text that cannot be read or does not validate; the message says where and why."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


_MERGE_TAG = "tag:yaml.org,2002:merge"

MAX_ALIAS_REPEATS = 1_000_000
"""How many nodes aliases may repeat in one document. Aliases are for reuse (the lab's demo
fleet repeats 1,892 nodes so); nested ones multiply ("billion laughs": ten aliases of ten
aliases ... of ten items is 10**9 nodes from a kilobyte), and whoever walks the data then, a
str() of a step's `when`, a JSON plan, runs out of time and memory."""


MAX_NESTING = 100
"""Collections nested deeper than this are refused. PyYAML's scanner re-checks every open
flow level for each token (5,000 nested `[`, 10 KB, took 4.5 s; ten times as many, minutes)
and its composer and constructor recurse per level (RecursionError from ~300 levels); real
files nest fewer than 10."""


MAX_YAML_CHARS = 256 * 1024
"""YAML inputs (playbooks, waivers, fleets) are read up to this many characters. PyYAML's pure
Python loader, which keeps the lines we report, is linear but slow: some 20 microseconds a
character for a file of tiny nodes (`a: 1` lines, `- a` items; 512 KB of them took 12 s), so
10 MB would take minutes. libyaml scans and parses three times faster (the 8 shipped playbooks:
86 ms to 28 ms), but a document it refuses is read again the slow way for the message. Our
playbooks are a few KB, the demo fleet 71 KB; 256 KB is some 1,500 waivers."""


class _Checks:
    """What both loaders check as they compose: nesting depth and duplicate keys."""

    _nesting = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if not self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):  # type: ignore[attr-defined]
            return super().compose_node(parent, index)  # type: ignore[misc]
        self._nesting += 1
        try:
            if self._nesting > MAX_NESTING:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"collections nested deeper than {MAX_NESTING} levels",
                    self.peek_event().start_mark,  # type: ignore[attr-defined]
                )
            return super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._nesting -= 1

    on_duplicate: Callable[[str, int, int], None] | None = None
    """Told (key, first line, line) of a duplicate key instead of refusing it; the last wins."""

    def compose_mapping_node(self, anchor: str | None) -> yaml.MappingNode:
        node: yaml.MappingNode = super().compose_mapping_node(anchor)  # type: ignore[misc]
        _refuse_duplicate_keys(node, self.on_duplicate)
        return node


class _LineLoader(_Checks, yaml.SafeLoader):
    """SafeLoader that records the line of every mapping and list it builds."""

    def fetch_flow_collection_start(self, TokenClass: type[yaml.Token]) -> None:
        if self.flow_level >= MAX_NESTING:
            raise yaml.scanner.ScannerError(
                None, None, f"collections nested deeper than {MAX_NESTING} levels", self.get_mark()
            )
        super().fetch_flow_collection_start(TokenClass)


_FAST = getattr(yaml, "__with_libyaml__", False)


class _PythonComposer:
    """PyYAML's composer over libyaml's events: the checks above hook into its steps, while
    scanning and parsing, nine tenths of the time, run in C."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)  # type: ignore[call-arg]
        self.anchors: dict[str, yaml.Node] = {}

    check_node = yaml.composer.Composer.check_node
    get_node = yaml.composer.Composer.get_node
    get_single_node = yaml.composer.Composer.get_single_node
    compose_document = yaml.composer.Composer.compose_document
    compose_node = yaml.composer.Composer.compose_node
    compose_scalar_node = yaml.composer.Composer.compose_scalar_node
    compose_sequence_node = yaml.composer.Composer.compose_sequence_node
    compose_mapping_node = yaml.composer.Composer.compose_mapping_node


if _FAST:

    class _FastLineLoader(_Checks, _PythonComposer, yaml.CSafeLoader):  # type: ignore[misc]
        """_LineLoader's documents from libyaml (whose own nesting limit bounds its scanner);
        a document it refuses is read again by _LineLoader, for the same message and line."""


def _refuse_duplicate_keys(
    node: yaml.MappingNode, on_duplicate: Callable[[str, int, int], None] | None = None
) -> None:
    """YAML 1.2.2, 3.2.1.1 Nodes: "each of the keys is unique". PyYAML keeps the last value
    silently, which would drop a selection or a step written twice; refuse, naming both lines.
    (Ansible's own files only warn, and keep the last: `on_duplicate` lets their readers do so.)

    Checked on the composed node, before merge keys (`<<`) copy pairs in: overriding a merged
    key is allowed. Scalar keys compare by tag and text (`a` and 'a' are the same key).
    """
    seen: dict[tuple[str, str], int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        key = (key_node.tag, key_node.value)
        line = key_node.start_mark.line + 1
        if key in seen and on_duplicate is not None:
            on_duplicate(str(key_node.value), seen[key], line)
        elif key in seen:
            raise yaml.composer.ComposerError(
                "while reading a mapping",
                node.start_mark,
                f"found duplicate key {key_node.value!r} (first on line {seen[key]})",
                key_node.start_mark,
            )
        seen[key] = line


def _mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    loader.lines[id(mapping)] = node.start_mark.line + 1  # type: ignore[attr-defined]
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            key = (id(mapping), key_node.value)
            loader.lines[key] = key_node.start_mark.line + 1  # type: ignore[attr-defined,index]
    return mapping


def _sequence(loader: _LineLoader, node: yaml.SequenceNode) -> list[Any]:
    sequence = loader.construct_sequence(node, deep=True)
    loader.lines[id(sequence)] = node.start_mark.line + 1  # type: ignore[attr-defined]
    return sequence


_LOADERS: tuple[type[Any], ...] = (_FastLineLoader, _LineLoader) if _FAST else (_LineLoader,)
for _loader in _LOADERS:
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


_SIZE_CAP = 1 << 62


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _refuse_alias_bombs(root: yaml.Node, source: str) -> None:
    """YamlInputError when aliases would repeat more than MAX_ALIAS_REPEATS nodes.

    Counts each node once and each subtree's written-out size from its children's (one pass,
    no expansion), so the check is linear in the text however much the aliases multiply.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    first_too_big: yaml.Node | None = None
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            # A child still on the path is a cycle: counted once here, refused by the constructor.
            size = 1 + sum(sizes.get(id(child), 0) for child in _children(node))
            sizes[key] = min(size, _SIZE_CAP)  # small ints: adding stays cheap at any depth
            if first_too_big is None and size - len(sizes) > MAX_ALIAS_REPEATS:
                first_too_big = node
            continue
        if key in sizes or key in on_path:
            continue
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))
    if sizes[id(root)] - len(sizes) > MAX_ALIAS_REPEATS:
        line = (first_too_big or root).start_mark.line + 1
        raise YamlInputError(
            f"{source}:{line}: aliases here repeat more than {MAX_ALIAS_REPEATS:,} nodes;"
            " refused (nested aliases multiply: write the data out instead)",
            line,
        )


class LocatedDocument:
    """A parsed YAML document and the line of each of its mappings and lists."""

    def __init__(self, data: Any, lines: dict[Any, int], source: str) -> None:
        self.data = data
        self._lines = lines
        self.source = source

    def key_line(self, mapping: Any, key: Any) -> int | None:
        """The line of `key` in `mapping` (a mapping of this document), in constant time.

        Unlike `line_of((key,))`, the key's own line even when its value is a mapping or list.
        """
        return self._lines.get((id(mapping), str(key)))

    def line_of(self, location: tuple[Any, ...]) -> int | None:
        """The line of the deepest node of `location` that exists (a pydantic error `loc`)."""
        node, line = self.data, self._lines.get(id(self.data))
        for part in location:
            if isinstance(node, dict):
                line = self._lines.get((id(node), str(part)), line)
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                break
            line = self._lines.get(id(node), line)
        return line

    def where(self, location: tuple[Any, ...] = ()) -> str:
        line = self.line_of(location)
        return f"{self.source}:{line}" if line else self.source

    def validation_error(self, exc: ValidationError) -> YamlInputError:
        """One clear message for the first problem pydantic found (and how many more)."""
        first = exc.errors()[0]
        location = tuple(first["loc"])
        path = ".".join(str(p) for p in location) or "(top)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        message = first["msg"].removeprefix("Value error, ")
        return YamlInputError(
            f"{self.where(location)}: {path}: {message}{more}", self.line_of(location)
        )


def read_utf8(path: Path, max_chars: int = MAX_YAML_CHARS) -> str:
    """A YAML file's text; YamlInputError names the file when it cannot be read as UTF-8."""
    try:
        with path.open("rb") as stream:
            data = stream.read(max_chars * 4 + 1)  # UTF-8: up to 4 bytes a character
        if len(data) > max_chars * 4:
            raise YamlInputError(_too_long(str(path), max_chars))
        # as read_text did: universal newlines
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except OSError as exc:
        raise YamlInputError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise YamlInputError(f"{path}: not UTF-8 text") from None


def _too_long(source: str, max_chars: int = MAX_YAML_CHARS) -> str:
    return (
        f"{source}: too long for a playbook, waivers, fleet or vars file; these YAML files are"
        f" read up to {max_chars:,} characters"
    )


def load_located(
    text: str,
    source: str,
    *,
    tags: Mapping[str, Callable[[Any, Any], Any]] | None = None,
    on_duplicate: Callable[[str, int, int], None] | None = None,
    max_chars: int = MAX_YAML_CHARS,
) -> LocatedDocument:
    """Parse YAML text, keeping lines; YamlInputError names the line of a syntax error.

    `tags` adds constructors for local tags (Ansible's `!vault`, `!unsafe`), `on_duplicate`
    accepts duplicate keys (see `_refuse_duplicate_keys`), `max_chars` raises the size cap.
    """
    if len(text) > max_chars:
        raise YamlInputError(_too_long(source, max_chars))
    if _FAST:
        try:
            return _load(_FastLineLoader, text, source, tags, on_duplicate)
        except YamlInputError:
            pass  # read again by the pure Python loader, whose messages users know
    return _load(_LineLoader, text, source, tags, on_duplicate)


def _load(
    base: type[Any],
    text: str,
    source: str,
    tags: Mapping[str, Callable[[Any, Any], Any]] | None,
    on_duplicate: Callable[[str, int, int], None] | None,
) -> LocatedDocument:
    loader: Any = None
    loader_class = base
    if tags:
        loader_class = type("_TaggedLoader", (base,), {})
        for tag, constructor in tags.items():
            loader_class.add_constructor(tag, constructor)
    try:
        loader = loader_class(text)
        loader.name = source
        loader.on_duplicate = on_duplicate
        loader.lines = {}
        node = loader.get_single_node()
        if node is not None:
            _refuse_alias_bombs(node, source)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlInputError(
            f"{where}: not valid YAML: {problem}", mark.line + 1 if mark else None
        ) from None
    except YamlInputError:
        raise
    except (RecursionError, ValueError, TypeError) as exc:
        raise YamlInputError(f"{source}: not valid YAML: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()
    return LocatedDocument(data, loader.lines, source)
