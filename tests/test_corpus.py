from __future__ import annotations

import pytest
from tests.conftest import CORPUS

from qa.ingest.corpus import load_corpus, other_files, parse_document


def test_front_matter_fields_and_headline():
    data = (
        b"---\ntitle: A Summit\npublisher: Daily\ndate: 2024-11-28\n---\nA Summit\n\nBody text.\n"
    )
    document = parse_document("a.md", data)
    assert (document.title, document.publisher, document.date, document.url) == (
        "A Summit",
        "Daily",
        "2024-11-28",
        None,
    )
    assert document.text == "A Summit\n\nBody text.\n"
    assert document.text[document.body_start :].strip() == "Body text."


def test_without_front_matter_a_standalone_first_line_is_the_title():
    document = parse_document("b.txt", b"Leaders Meet in Minsk\n\nThe leaders met.")
    assert document.title == "Leaders Meet in Minsk"
    assert document.text[document.body_start :].strip() == "The leaders met."


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"Buy milk and eggs\n", "Buy milk and eggs"),
        (b"#ClimateWeek starts today in NYC\n", "#ClimateWeek starts today in NYC"),  # no heading
        (
            b"---\ndate: 2016-05-28\n---\nPray for Bryce's family (@Pelicans) May 28, 2016\n",
            "Pray for Bryce's family (@Pelicans) May 28, 2016",
        ),
    ],
)
def test_a_single_line_is_the_text_not_a_headline(data, text):
    document = parse_document("note.md", data)
    assert document.body_start == 0  # searchable, not taken away as a headline
    assert document.text.strip() == document.title == text


def test_a_first_line_that_is_prose_stays_body_and_names_the_document():
    document = parse_document("c.txt", b"The leaders met in Minsk.\nThey signed.")
    assert document.title == "The leaders met in Minsk."
    assert document.body_start == 0


def test_title_falls_back_to_the_file_name(tmp_path):
    (tmp_path / "d.md").write_text("#\n\nText.")
    docs, skipped = load_corpus(tmp_path)
    assert docs[0].title == "d" and not skipped


def test_bad_files_are_skipped_with_a_reason(tmp_path):
    (tmp_path / "ok.md").write_text("Fine text.")
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 20)
    (tmp_path / "yaml.md").write_text("---\ntitle: [unclosed\n---\nText.")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    docs, skipped = load_corpus(tmp_path)
    assert [d.source for d in docs] == ["ok.md"]
    reasons = {s.source: s.reason for s in skipped}
    assert set(reasons) == {"binary.txt", "empty.txt", "yaml.md"}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["binary.txt"] == "binary data, not text"
    assert "YAML" in reasons["yaml.md"]


def test_files_of_other_types_are_named_hidden_ones_aside(tmp_path):
    (tmp_path / "ok.md").write_text("Fine text.")
    (tmp_path / "notes.docx").write_bytes(b"PK")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "photo.JPG").write_bytes(b"\xff\xd8")
    (tmp_path / "sub" / "Makefile").write_text("all:")
    (tmp_path / ".DS_Store").write_bytes(b"")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "index").write_bytes(b"")
    assert other_files(tmp_path) == ["notes.docx", "sub/Makefile", "sub/photo.JPG"]


def test_the_seed_corpus_reads_whole():
    docs, skipped = load_corpus(CORPUS)
    assert len(docs) == 5 and not skipped
    assert all(d.date for d in docs)
    by_name = {d.source: d for d in docs}
    assert by_name["2020-12-02-tokayev-csto-videoconference.md"].publisher == "The Astana Times"
