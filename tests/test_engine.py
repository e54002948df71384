from __future__ import annotations

import json

import pytest
from tests.conftest import CORPUS

from qa import Answer, Engine
from qa.index.build import build_index
from qa.index.generations import current_generation


def test_secretary_general_question_finds_both_holders_with_their_dates(engine):
    result = engine.answer("Who is the Secretary-General of the CSTO?", k=5)
    dates = {p.date for p in result.passages if "Tasmagambetov" in p.text}
    assert "2024-11-28" in dates
    assert {p.date for p in result.passages if "Stanislav Zas" in p.text} == {"2020-12-02"}


def test_the_1992_treaty_is_cited_from_the_2020_article(engine):
    result = engine.answer("When and where was the Collective Security Treaty signed in 1992?")
    top = result.passages[0]
    assert "May 15, 1992" in top.text
    assert top.source == "2020-12-02-tokayev-csto-videoconference.md"
    assert top.publisher == "The Astana Times"


def test_passages_quote_their_documents_exactly(engine):
    documents = {d.source: d for d in engine.index.documents}
    result = engine.answer("What did the Declaration say about military cooperation?", k=10)
    assert [p.score for p in result.passages] == sorted(
        (p.score for p in result.passages), reverse=True
    )
    for passage in result.passages:
        assert documents[passage.source].text[passage.start : passage.end] == passage.text
        assert passage.chunk_id.startswith(passage.source + "#")
    assert result.text in result.passages[0].text


def test_answer_serialises_to_json(engine):
    result = engine.answer("Which city hosted the 2024 session?", k=2)
    data = json.loads(result.to_json())
    assert data["question"] == result.question and data["text"] == result.text
    assert Answer.from_dict(data) == result
    assert {"exact", "exact_start", "exact_end", "as_of"} <= set(data)
    counted = engine.answer("How many documents did the CSTO leaders sign?", k=2)
    assert Answer.from_dict(json.loads(counted.to_json())).exact == counted.exact == "14"
    top = result.passages[0]
    assert (
        result.text
        == top.sentence
        == top.text[top.sentence_start - top.start : top.sentence_end - top.start]
    )
    assert (result.source, result.start, result.end) == (
        top.source,
        top.sentence_start,
        top.sentence_end,
    )


@pytest.mark.parametrize("question", ["", "   \n\t"])
def test_an_empty_question_is_a_value_error(engine, question):
    with pytest.raises(ValueError, match="empty"):
        engine.answer(question)


@pytest.mark.parametrize("question", [None, 42, b"Who chaired?", ["Who chaired?"]])
def test_a_question_that_is_not_text_is_a_value_error_naming_its_type(engine, question):
    with pytest.raises(ValueError, match=f"the question is text, got {type(question).__name__}"):
        engine.answer(question)


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_k_must_be_a_positive_whole_number(engine, k):
    with pytest.raises(ValueError, match="k must be"):
        engine.answer("Who chaired the session?", k=k)


def test_k_above_the_passage_count_returns_them_all(engine):
    count = len(engine.index.passages)
    result = engine.answer("Who chaired the session?", k=count + 50)
    shown = [p.chunk_id for p in result.passages]
    folded = [s.chunk_id for p in result.passages for s in p.also_in]
    assert sorted(shown + folded) == sorted(p.chunk_id for p in engine.index.passages)


def test_a_very_long_question_is_truncated_not_a_crash(engine):
    question = ("Who is the Secretary-General of the CSTO? " * 500)[:20_000]
    result = engine.answer(question, k=3)
    assert len(result.passages) == 3


def test_an_engine_builds_its_index_when_there_is_none(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.md").write_text(
        "---\ntitle: Note\n---\nThe meeting was held in Minsk. It was cold."
    )
    engine = Engine(corpus, tmp_path / "index")
    result = engine.answer("Where was the meeting held?", k=3)
    assert [p.source for p in result.passages] == ["note.md"]
    assert result.passages[0].title == "Note"
    assert result.text == "The meeting was held in Minsk."


def test_module_level_answer_uses_the_environment(tmp_path, monkeypatch, seed_index):
    import qa.engine

    monkeypatch.setenv("QA_CORPUS", str(CORPUS))
    monkeypatch.setenv("QA_INDEX", str(seed_index))
    qa.engine.default_engine.cache_clear()
    try:
        result = qa.answer("Which potential of the organization should be unlocked?", k=1)
        assert "peacekeeping potential" in result.passages[0].text
    finally:
        qa.engine.default_engine.cache_clear()


def test_date_and_source_filters(engine):
    question = "Who is the Secretary-General of the CSTO?"
    only_2020 = engine.answer(question, k=50, date_to="2020-12-31")
    assert {p.date for p in only_2020.passages} == {"2020-12-02"}
    from_2023 = engine.answer(question, k=50, date_from="2023-06")
    assert {p.date for p in from_2023.passages} == {"2023", "2024", "2024-11-28"}
    one_file = engine.answer(
        question, k=3, sources=["2023-minsk-tokayev-chairmanship-priorities.md"]
    )
    assert {p.source for p in one_file.passages} == {
        "2023-minsk-tokayev-chairmanship-priorities.md"
    }
    assert engine.answer(question, date_from="2030").passages == []
    with pytest.raises(ValueError, match="ISO"):
        engine.answer(question, date_from="last year")


def test_info_reports_the_loaded_index(engine):
    info = engine.info()
    assert info.documents == 5 == len(info.sources)
    assert info.passages == len(engine.index.vectors)
    assert info.model == engine.settings.model
    assert info.built_at == engine.index.manifest.built_at
    assert "2024-11-28-astana-summit-signed-documents.md" in info.sources


def test_document_returns_the_text_passages_index(engine):
    passage = engine.answer("Who is the Secretary-General of the CSTO?", k=1).passages[0]
    document = engine.document(passage.source)
    assert document.text[passage.start : passage.end] == passage.text
    with pytest.raises(KeyError):
        engine.document("no-such-file.md")


def test_an_answer_uses_one_generation_while_another_thread_switches(
    corpus_copy, index_copy, monkeypatch
):
    import qa.engine

    deleted = "2023-minsk-tokayev-chairmanship-priorities.md"
    engine = Engine(corpus_copy, index_copy, build_if_missing=False)
    question = "Who is the Secretary-General of the CSTO?"
    expected = engine.answer(question, k=1000)
    assert deleted in {p.source for p in expected.passages}
    search = qa.engine.search

    def switch_midway(*args, **kwargs):
        # Between ranking and citing, a build replaces the index and another thread's
        # answer makes the engine switch to it.
        hits = search(*args, **kwargs)
        (corpus_copy / deleted).unlink()
        build_index(corpus_copy, index_copy)
        engine.info()
        return hits

    monkeypatch.setattr(qa.engine, "search", switch_midway)
    assert engine.answer(question, k=1000) == expected  # cited from the generation it ranked
    monkeypatch.setattr(qa.engine, "search", search)
    assert engine.index.path == current_generation(index_copy)
    assert deleted not in {p.source for p in engine.answer(question, k=1000).passages}


def test_a_follow_up_after_its_question_is_answered_as_on_its_own(engine, seed_index):
    # The engine keeps the question it just read, so the follow-up does not embed it again;
    # the answer is the one an engine that never saw the question gives.
    earlier = "Who chaired the 2020 CSTO Council videoconference?"
    follow_up = "Where did the next session take place?"
    engine.answer(earlier)
    after = engine.answer(follow_up, history=[earlier])
    fresh = Engine(CORPUS, seed_index, build_if_missing=False)
    assert after.to_dict() == fresh.answer(follow_up, history=[earlier]).to_dict()


def test_answers_in_several_threads_leave_the_blas_threads_as_they_found_them(engine):
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    def blas_threads() -> list[int]:
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    before = blas_threads()
    questions = ["Who chaired the 2020 videoconference?", "Which city hosted the 2024 session?"]
    alone = [engine.answer(q).to_dict() for q in questions]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda q: engine.answer(q).to_dict(), questions * 4))
    assert together == alone * 4  # the same answers, whichever thread and limit they ran under
    assert blas_threads() == before
