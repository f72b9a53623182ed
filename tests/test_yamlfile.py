"""Line-aware YAML loading and UTF-8 reading (remediate/yamlfile.py): the lines errors name,
the encodings a file may have, and the YAML that must be refused cleanly."""

from __future__ import annotations

import codecs
import time
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from remediate import yamlfile
from remediate.yamlfile import LocatedDocument, YamlInputError, load_located, read_utf8

PLAYBOOK = """\
id: Q1
title: t
fix:
  files:
    - file: a.exe
      version: 1
    - file: b.dll
"""


# --------------------------------------------------------------------------- lines


def test_data_is_plain_python() -> None:
    document = load_located(PLAYBOOK, "p.yml")
    assert document.source == "p.yml"
    assert document.data == {
        "id": "Q1",
        "title": "t",
        "fix": {"files": [{"file": "a.exe", "version": 1}, {"file": "b.dll"}]},
    }


@pytest.mark.parametrize(
    ("location", "line"),
    [
        ((), 1),
        (("title",), 2),  # a scalar value: the line of its key
        (("fix",), 4),  # a mapping value: where the mapping starts
        (("fix", "files"), 5),
        (("fix", "files", 0), 5),
        (("fix", "files", 0, "version"), 6),
        (("fix", "files", 1), 7),
        (("fix", "files", 1, "version"), 7),  # missing key: the mapping that lacks it
        (("fix", "files", 9), 5),  # missing item: the list
        (("nope", "deeper"), 1),
    ],
)
def test_line_of_the_deepest_node_that_exists(location: tuple[object, ...], line: int) -> None:
    assert load_located(PLAYBOOK, "p.yml").line_of(location) == line


def test_where_names_source_and_line() -> None:
    document = load_located(PLAYBOOK, "playbooks/Q1.yml")
    assert document.where(("fix", "files", 0, "version")) == "playbooks/Q1.yml:6"
    assert document.where() == "playbooks/Q1.yml:1"


def test_integer_keys_are_found_by_their_text() -> None:
    document = load_located("ports:\n  80: http\n  443: https\n", "s")
    assert document.data == {"ports": {80: "http", 443: "https"}}
    assert document.line_of(("ports", 443)) == 3


def test_flow_style_lines() -> None:
    document = load_located("a: {b: [1,\n  2], c: x}\nd: [\n  {e: 1}]\n", "s")
    assert document.line_of(("a", "b")) == 1
    assert document.line_of(("d", 0, "e")) == 4


class _File(BaseModel):
    file: str
    version: int

    @field_validator("file")
    @classmethod
    def _named(cls, value: str) -> str:
        if "." not in value:
            raise ValueError("a file name has an extension")
        return value


class _Fix(BaseModel):
    files: list[_File]


class _Playbook(BaseModel):
    id: str
    fix: _Fix


def _first_error(text: str) -> YamlInputError:
    document = load_located(text, "p.yml")
    with pytest.raises(ValidationError) as raised:
        _Playbook.model_validate(document.data)
    return document.validation_error(raised.value)


def test_validation_error_names_line_path_and_how_many_more() -> None:
    error = _first_error(PLAYBOOK)  # files.1 lacks version
    assert str(error) == "p.yml:7: fix.files.1.version: Field required"
    assert error.line == 7
    error = _first_error(PLAYBOOK.replace("version: 1", "version: one").replace("b.dll", "bdll"))
    assert str(error).startswith("p.yml:6: fix.files.0.version: Input should be a valid integer")
    assert str(error).endswith(" (and 2 more)")  # files.1.file, files.1.version


def test_validation_error_drops_pydantics_value_error_prefix() -> None:
    error = _first_error("id: Q1\nfix:\n  files:\n    - {file: exe, version: 2}\n")
    assert str(error) == "p.yml:4: fix.files.0.file: a file name has an extension"


def test_validation_error_at_the_top() -> None:
    error = _first_error("- 1\n- 2\n")
    assert str(error).startswith("p.yml:1: (top): Input should be a valid dictionary")


# --------------------------------------------------------------------------- bad YAML


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("a: 1\nb: [1, 2\nc: 3\n", 3, "expected ',' or ']', but got ':'"),
        ("a:\n\tb: 1\n", 2, "found character '\\t' that cannot start any token"),
        ("a: 1\n  b: 2\n", 2, "mapping values are not allowed here"),
        ("a: 'x\n", 2, "found unexpected end of stream"),
        ("- a\nb: 1\n", 2, "expected <block end>, but found '?'"),
        ("a: 1\n---\nb: 2\n", 2, "but found another document"),
        ("? [a]\n: 1\n", 1, "found unhashable key"),
        ("a: &x [*x]\n", 1, "found unconstructable recursive node"),
        ("a: *nowhere\n", 1, "found undefined alias 'nowhere'"),
    ],
)
def test_syntax_errors_name_the_line(text: str, line: int, problem: str) -> None:
    with pytest.raises(YamlInputError) as raised:
        load_located(text, "s.yml")
    assert str(raised.value) == f"s.yml:{line}: not valid YAML: {problem}"
    assert raised.value.line == line


@pytest.mark.parametrize(
    ("text", "line", "key", "first"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, "a", 1),
        ("{a: 1, 'a': 2}\n", 1, "a", 1),
        ('a: 1\n"a": 2\n', 2, "a", 1),
        (
            "symptoms:\n  selections:\n    mta: {event_ids: [1]}\n"
            "    imc: {event_ids: [2]}\n    mta: {event_ids: [3]}\n",
            5,
            "mta",
            3,
        ),
        ("steps:\n  - name: x\n    when: {os: a}\n    name: y\n", 4, "name", 2),
    ],
)
def test_duplicate_keys_are_refused_with_both_lines(
    text: str, line: int, key: str, first: int
) -> None:
    # PyYAML keeps the last value: a selection written twice would silently not be checked.
    with pytest.raises(YamlInputError) as raised:
        load_located(text, "s.yml")
    assert str(raised.value) == (
        f"s.yml:{line}: not valid YAML: found duplicate key {key!r} (first on line {first})"
    )
    assert raised.value.line == line


def test_keys_that_only_look_alike_and_merge_overrides_are_not_duplicates() -> None:
    text = "1: int\n'1': str\nbase: &b {x: 1, y: 1}\nover: {<<: *b, x: 2}\n"
    assert load_located(text, "s").data == {
        1: "int",
        "1": "str",
        "base": {"x": 1, "y": 1},
        "over": {"x": 2, "y": 1},
    }


def test_python_tags_are_refused() -> None:
    # SafeLoader: a playbook cannot make us build arbitrary objects or call functions.
    with pytest.raises(YamlInputError, match=r"s.yml:2: not valid YAML: could not determine"):
        load_located("a: 1\nb: !!python/object/apply:os.system [echo hi]\n", "s.yml")


def test_control_characters_are_refused() -> None:
    with pytest.raises(YamlInputError, match=r"^s.yml: not valid YAML: unacceptable character"):
        load_located("a: \x00\n", "s.yml")


def _block_mappings(levels: int) -> str:
    return "".join(" " * (2 * i) + f"k{i}:\n" for i in range(levels)) + " " * (2 * levels) + "v\n"


def _block_lists(levels: int) -> str:
    return "".join(" " * (2 * i) + "-\n" for i in range(levels)) + " " * (2 * levels) + "v\n"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[" * 50_000 + "]" * 50_000, 1),
        ("{a: " * 50_000 + "1" + "}" * 50_000, 1),
        ("[" * (yamlfile.MAX_NESTING + 1) + "]" * (yamlfile.MAX_NESTING + 1), 1),
        (_block_mappings(yamlfile.MAX_NESTING + 1), yamlfile.MAX_NESTING + 1),
        (_block_lists(yamlfile.MAX_NESTING + 1), yamlfile.MAX_NESTING + 1),
        ("a:\n  b: " + "[" * yamlfile.MAX_NESTING + "]" * yamlfile.MAX_NESTING, 2),
    ],
    ids=["flow-lists", "flow-maps", "flow+1", "block-maps+1", "block-lists+1", "mixed+1"],
)
def test_deep_nesting_is_refused_quickly_with_its_line(text: str, line: int) -> None:
    # PyYAML's scanner re-checked every open flow level per token: 5,000 `[` took 4.5 s, and
    # deeper documents fell out of the composer as a RecursionError.
    started = time.perf_counter()
    with pytest.raises(YamlInputError) as raised:
        load_located(text, "s.yml")
    assert time.perf_counter() - started < 1.0
    limit = yamlfile.MAX_NESTING
    assert str(raised.value) == (
        f"s.yml:{line}: not valid YAML: collections nested deeper than {limit} levels"
    )
    assert raised.value.line == line


def test_nesting_up_to_the_limit_loads() -> None:
    limit = yamlfile.MAX_NESTING
    data = load_located("[" * limit + "x" + "]" * limit, "s").data
    for _ in range(limit - 1):
        data = data[0]
    assert data == ["x"]
    assert load_located(_block_mappings(limit), "s").line_of(("k0", "k1", "k2")) == 4
    assert load_located(_block_lists(limit), "s").data is not None


def test_yaml_input_error_is_a_value_error() -> None:
    assert issubclass(YamlInputError, ValueError)


# --------------------------------------------------------------------------- odd documents


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n", "~\n"])
def test_empty_documents_are_none_without_lines(text: str) -> None:
    document = load_located(text, "empty.yml")
    assert document.data is None
    assert document.line_of(("anything",)) is None
    assert document.where(("anything",)) == "empty.yml"


def test_a_scalar_document_has_no_line() -> None:
    document = load_located("just text\n", "s")
    assert document.data == "just text"
    assert document.line_of(()) is None


def test_aliases_share_the_anchors_data_and_line() -> None:
    text = "base: &b\n  x: 1\ncopy: *b\nmerged:\n  <<: *b\n  y: 2\n"
    document = load_located(text, "s")
    assert document.data == {"base": {"x": 1}, "copy": {"x": 1}, "merged": {"x": 1, "y": 2}}
    assert document.data["copy"] is document.data["base"]
    assert document.line_of(("copy", "x")) == 2  # the anchor's line: that is where x is written
    assert document.line_of(("merged", "y")) == 6


def _laughs(levels: int, fan: int = 10) -> str:
    """Each level a list of `fan` aliases of the level before: fan**levels items written out."""
    items = ["&l0 [" + ", ".join(["lol"] * fan) + "]"]
    items += [f"&l{i} [" + ", ".join([f"*l{i - 1}"] * fan) + "]" for i in range(1, levels)]
    return "id: Q1\nwhen:\n  os: [" + ", ".join(items) + "]\n"


@pytest.mark.parametrize(("levels", "fan"), [(9, 10), (300, 2)], ids=["billion", "2**300"])
def test_alias_bombs_are_refused_quickly(levels: int, fan: int) -> None:
    # Loading built them as shared objects in milliseconds; whoever walked the data afterwards
    # (str() of a step's `when`, a JSON plan) wrote out 10**9 items and ran out of memory.
    started = time.perf_counter()
    with pytest.raises(YamlInputError) as raised:
        load_located(_laughs(levels, fan), "bomb.yml")
    assert time.perf_counter() - started < 2.0
    assert str(raised.value).startswith(
        "bomb.yml:3: aliases here repeat more than 1,000,000 nodes; refused"
    )
    assert raised.value.line == 3


def test_aliases_within_the_bound_load(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_located(_laughs(5), "ok.yml").data["when"]["os"][4][9][9][9][9] == ["lol"] * 10
    monkeypatch.setattr(yamlfile, "MAX_ALIAS_REPEATS", 12)
    reuse = "a: &a [1, 2, 3]\nb: *a\nc: *a\nd: *a\n"  # three aliases repeat 3 x 4 nodes
    assert load_located(reuse, "s").data["d"] == [1, 2, 3]
    with pytest.raises(YamlInputError, match=r"^s:1: aliases here repeat more than 12 nodes"):
        load_located(reuse + "e: *a\n", "s")


def test_a_leading_byte_order_mark_is_not_data() -> None:
    document = load_located("\ufeffa: 1\nb: 2\n", "s")
    assert document.data == {"a": 1, "b": 2}
    assert document.line_of(("b",)) == 2


# --------------------------------------------------------------------------- reading files


def test_read_utf8_reads_text(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    path.write_bytes("title: \u00c9change \u2013 caf\u00e9\n".encode())
    assert read_utf8(path) == "title: \u00c9change \u2013 caf\u00e9\n"


def test_read_utf8_crlf_lines_count_as_lines(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    path.write_bytes(b"a: 1\r\nb:\r\n  c: 2\r\n")
    text = read_utf8(path)
    assert text == "a: 1\nb:\n  c: 2\n"
    assert load_located(text, str(path)).line_of(("b", "c")) == 3


def test_read_utf8_with_bom_loads(tmp_path: Path) -> None:
    # Notepad's "UTF-8 with BOM": the BOM is kept in the text and skipped by the YAML reader.
    path = tmp_path / "p.yml"
    path.write_bytes(codecs.BOM_UTF8 + b"a: 1\nb: x\n")
    document = load_located(read_utf8(path), str(path))
    assert document.data == {"a": 1, "b": "x"}
    assert document.line_of(("b",)) == 2


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF16_LE + "a: 1\n".encode("utf-16-le"),  # Notepad's "Unicode"
        codecs.BOM_UTF16_BE + "a: 1\n".encode("utf-16-be"),
        b"title: caf\xe9\n",  # cp1252, not UTF-8
        b"a: \xc3\x28\n",  # an invalid UTF-8 sequence
    ],
    ids=["utf16le", "utf16be", "cp1252", "invalid"],
)
def test_read_utf8_refuses_other_encodings_by_name(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "p.yml"
    path.write_bytes(data)
    with pytest.raises(YamlInputError) as raised:
        read_utf8(path)
    assert str(raised.value) == f"{path}: not UTF-8 text"
    assert raised.value.line is None


def test_read_utf8_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.yml"
    with pytest.raises(YamlInputError) as raised:
        read_utf8(path)
    assert str(raised.value) == f"{path}: cannot read: No such file or directory"


def test_read_utf8_directory(tmp_path: Path) -> None:
    with pytest.raises(YamlInputError) as raised:
        read_utf8(tmp_path)
    assert str(raised.value) == f"{tmp_path}: cannot read: Is a directory"


def test_read_utf8_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yml"
    path.write_bytes(b"")
    assert read_utf8(path) == ""
    assert load_located("", str(path)).data is None


def test_located_document_is_exported() -> None:
    assert isinstance(load_located("a: 1\n", "s"), LocatedDocument)


# --------------------------------------------------------------------------- libyaml

BOTH_WAYS = """\
defaults: &base
  timeout: 30
  enabled: yes
  when: 2026-11-30
hosts:
  - name: a
    <<: *base
    timeout: 5
  - {name: b, ports: [5985, 5986], note: "tab\\there"}
text: |
  two
  lines
folded: >
  one
  line
empty:
octal: 0o17
"""


@pytest.mark.skipif(not yamlfile._FAST, reason="PyYAML without libyaml")
def test_libyaml_reads_what_the_python_loader_reads() -> None:
    """The C scanner is only a faster way to the same document: same data, same lines."""
    fast = yamlfile._load(yamlfile._FastLineLoader, BOTH_WAYS, "f.yml", None, None)
    pure = yamlfile._load(yamlfile._LineLoader, BOTH_WAYS, "f.yml", None, None)
    assert fast.data == pure.data
    assert fast.data["hosts"][0]["timeout"] == 5
    for location in (("hosts", 0, "timeout"), ("hosts", 1, "ports"), ("text",), ("octal",)):
        assert fast.line_of(location) == pure.line_of(location) is not None


@pytest.mark.skipif(not yamlfile._FAST, reason="PyYAML without libyaml")
def test_what_libyaml_refuses_is_explained_as_before() -> None:
    """libyaml stops 1,000 levels deep with its own words; users get ours, from the Python
    loader, which stops at MAX_NESTING: the same message and line either way."""
    deep = "a:\n  b: " + "[" * 2000 + "]" * 2000 + "\n"
    with pytest.raises(YamlInputError) as refused:
        load_located(deep, "deep.yml")
    assert f"nested deeper than {yamlfile.MAX_NESTING} levels" in str(refused.value)
    assert refused.value.line == 2
