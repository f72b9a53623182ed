"""KB importer: seeds against the hand-written playbooks, samples against expected JSON,
drafts that validate, and robustness on odd input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remediate.errors import InputError
from remediate.kb.draft import draft_playbook, facts_json, playbook_yaml
from remediate.kb.extract import extract
from remediate.kb.read import MAX_ARTICLE_CHARS, decode_article, read_article
from remediate.rules.playbook import EventSelection, Playbook, load_playbook, parse_playbook

ROOT = Path(__file__).resolve().parents[2]
# shared/ sits beside the repository (in CI too); /work/shared is where sessions find it.
SEEDS = next(
    (
        p
        for p in (
            Path(__file__).resolve().parents[3] / "shared" / "seeds",
            Path("/work/shared/seeds"),
        )
        if p.is_dir()
    ),
    Path(__file__).resolve().parents[3] / "shared" / "seeds",
)
SAMPLES = Path(__file__).parent / "samples"
SEED_PLAYBOOKS = {
    "000_36083ea9a6d87651.txt": "Q266383",
    "001_a7f0d063b3d3fdda.txt": "KB840469",
    "002_3d94ffcb1a7b2bac.txt": "Q232602",
    "003_c2634274b8c65daa.txt": "Q319936",
    "004_ae4425dfa1fd26fd.txt": "Q193639",
}
FACT_KEYS = ("article", "title", "products", "events", "fix_files", "fixed_in")


def _little_endian(code: str) -> str:
    digits = code.lower().removeprefix("0x")
    return "".join(reversed([digits[i : i + 2] for i in range(0, 8, 2)]))


def _playbook_events(playbook: Playbook) -> dict[int, tuple[set[str], set[str], str | None]]:
    """Per event ID: sources, codes (union over selections) and data bytes."""
    events: dict[int, tuple[set[str], set[str], str | None]] = {}
    assert playbook.symptoms is not None
    for selection in playbook.symptoms.selections.values():
        if not isinstance(selection, EventSelection):
            continue
        for event_id in selection.event_ids:
            sources, codes, data = events.setdefault(event_id, (set(), set(), None))
            sources.update(selection.source)
            codes.update(selection.codes)
            events[event_id] = (sources, codes, data or selection.data_contains)
    return events


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed articles not present")
@pytest.mark.parametrize("seed", sorted(SEED_PLAYBOOKS))
def test_seed_matches_hand_written_playbook(seed: str) -> None:
    facts = extract(read_article(SEEDS / seed), seed)
    playbook = load_playbook(ROOT / "playbooks" / f"{SEED_PLAYBOOKS[seed]}.yml")
    if facts.article is not None:
        assert facts.article == playbook.id
    if facts.title is not None:
        assert facts.title == playbook.title
    expected = _playbook_events(playbook)
    assert sorted(e.event_id for e in facts.events) == sorted(expected)
    for event in facts.events:
        sources, codes, data = expected[event.event_id]
        if event.source is None:
            assert not sources or len(sources) == 1  # a source the article only implies
        else:
            assert sources == {event.source}
        derived = {c for c in event.codes if data and _little_endian(c) in data.replace(" ", "")}
        assert set(event.codes) - derived == codes
        assert (event.data or "").replace(" ", "") == (data or "")
    rows = [(r.file, r.version) for r in facts.fix_files]
    assert rows == [(f.file, f.version) for f in playbook.fix.files]
    want_sp = playbook.fix.fixed_in.service_pack if playbook.fix.fixed_in else None
    assert (facts.fixed_in_sp[1] if facts.fixed_in_sp else None) == want_sp
    versions = {r.version for r in facts.ranges}
    assert versions == {p.version for p in playbook.applies_to.products}


def _samples() -> list[Path]:
    return sorted(p for p in SAMPLES.iterdir() if not p.name.endswith(".expected.json"))


def test_enough_samples() -> None:
    assert len(_samples()) >= 8
    for sample in _samples():
        assert sample.with_name(sample.name.split(".")[0] + ".expected.json").exists()


@pytest.mark.parametrize("sample", _samples(), ids=lambda p: p.name)
def test_sample_matches_expected_json(sample: Path) -> None:
    expected = json.loads(
        sample.with_name(sample.name.split(".")[0] + ".expected.json").read_text()
    )
    got = facts_json(extract(read_article(sample), str(sample)))
    assert {k: got[k] for k in FACT_KEYS} == {k: expected[k] for k in FACT_KEYS}
    assert isinstance(got["warnings"], list)


@pytest.mark.parametrize("sample", _samples(), ids=lambda p: p.name)
def test_sample_draft_is_a_valid_playbook(sample: Path) -> None:
    facts = extract(read_article(sample), str(sample))
    draft = draft_playbook(facts)
    assert draft["review"] == "required"
    assert draft["remediation"][0]["step"] == "manual"
    playbook = parse_playbook(playbook_yaml(draft), "draft.yml")
    assert playbook.review == "required"
    assert len(playbook.fix.files) == len(facts.fix_files)
    if facts.events:
        assert playbook.symptoms is not None and playbook.symptoms.condition == "1 of them"


def test_draft_folders_and_sources() -> None:
    facts = extract(read_article(SAMPLES / "s05_whitespace_hex.txt"), "s05")
    files = {f["file"]: f["folder"] for f in draft_playbook(facts)["fix"]["files"]}
    assert files == {"Msexcimc.exe": "exchange:connect\\msexcimc\\bin", "Imcdata.tpl": "mtadata"}
    spaced = draft_playbook(extract(read_article(SAMPLES / "s02_event_source.txt"), "s02"))
    sources = [s.get("source") for s in spaced["symptoms"]["selections"].values()]
    assert sources == [["MSExchangeIMC"], ["MSExchangeTransport"]]
    misspelled = draft_playbook(extract(read_article(SAMPLES / "s08_misspelled.txt"), "s08"))
    assert next(iter(misspelled["symptoms"]["selections"].values()))["source"] == ["MSExchangeMTA"]


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed articles not present")
def test_seed_drafts_validate(tmp_path: Path) -> None:
    for seed, ident in SEED_PLAYBOOKS.items():
        facts = extract(read_article(SEEDS / seed), seed)
        draft = draft_playbook(facts, article_id=None if facts.article else ident)
        Playbook.model_validate(draft)
    nameless = extract(read_article(SEEDS / "001_a7f0d063b3d3fdda.txt"), "001.txt")
    with pytest.raises(InputError, match="does not name itself"):
        draft_playbook(nameless)
    named = tmp_path / "KB840469.txt"
    named.write_bytes((SEEDS / "001_a7f0d063b3d3fdda.txt").read_bytes())
    assert extract(read_article(named), str(named)).article == "KB840469"


def test_empty_and_binary_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.txt: the file is empty"):
        read_article(empty)
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(InputError, match=r"blob\.bin: a binary file"):
        read_article(binary)
    with pytest.raises(InputError, match="cannot read"):
        read_article(tmp_path / "missing.txt")


def test_encodings() -> None:
    text = "SYMPTOMS\n\nEvent ID: 2026\nSource: MSExchangeMTA\nThe MTA\u2019s log\n\nCAUSE\n"
    for data in (text.encode("utf-16"), b"\xef\xbb\xbf" + text.encode(), text.encode("cp1252")):
        decoded = decode_article(data, "a.txt")
        assert "MTA\u2019s" in decoded
        facts = extract(decoded, "a.txt")
        assert [(e.source, e.event_id) for e in facts.events] == [("MSExchangeMTA", 2026)]


def test_html_page_ignores_scripts_and_navigation() -> None:
    facts = extract(read_article(SAMPLES / "s07_page.html"), "s07_page.html")
    assert [e.event_id for e in facts.events] == [1005]


def test_large_article_gives_a_result() -> None:
    """The largest article read (the cap decode_article keeps), as lines and as one line."""
    body = (SAMPLES / "s02_event_source.txt").read_text()
    filler = "Lorem ipsum event text without numbers. " * 25 + "\n"
    text = body + filler * ((MAX_ARTICLE_CHARS - len(body)) // len(filler))
    facts = extract(decode_article(text.encode(), "big.txt"), "big.txt")
    assert facts.article == "Q301202"
    assert len(facts.fix_files) == 3
    one_line = body.replace("\n", " ") + " word" * ((MAX_ARTICLE_CHARS - len(body)) // 5)
    assert extract(decode_article(one_line.encode(), "flat.txt"), "flat.txt").article == "Q301202"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.text(max_size=60),
            st.sampled_from(
                [
                    "SYMPTOMS\n",
                    "Event ID: 4116\n",
                    "Source: MSExchangeIMC\n",
                    "Event: ",
                    "File name  Version\n",
                    "Emsmta.exe5.5.2656.20\n",
                    "| X.dll | 5.5.1.0 |",
                    "+-----+ ",
                    "Description: Error code=12 ",
                    "74 00 05 00 0e 00 07 80\n",
                    "Exchange 2000 Server SP2\n",
                    "Q123456",
                    "message NMI4283:",
                    "\n\n",
                    "first corrected in Exchange Server 5.5 Service Pack 3",
                    "<p>",
                    "N/A ",
                ]
            ),
        ),
        max_size=40,
    )
)
def test_fuzz_only_input_errors(parts: list[str]) -> None:
    text = "".join(parts)
    try:
        facts = extract(decode_article(text.encode("utf-8", "replace"), "f.txt"), "f.txt")
    except InputError:
        return
    json.dumps(facts_json(facts))
    try:
        Playbook.model_validate(draft_playbook(facts))
    except InputError:
        pass
