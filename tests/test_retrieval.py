from __future__ import annotations

from dataclasses import replace

import pytest
from tests.conftest import CORPUS

from qa import Engine
from qa.search.query import Query
from qa.search.retrieval import is_signature, match, search


def test_the_answer_sentence_is_the_one_that_answers(engine):
    result = engine.answer("Which countries originally signed the Collective Security Treaty?")
    assert "Armenia, Kazakhstan, Kyrgyzstan, Russia, Tajikistan and Uzbekistan" in result.text
    assert result.text == result.passages[0].sentence
    document = next(d for d in engine.index.documents if d.source == result.source)
    assert document.text[result.start : result.end] == result.text


def test_each_passage_marks_its_best_sentence(engine):
    for passage in engine.answer("Which city hosted the 2024 session?", k=5).passages:
        assert passage.start <= passage.sentence_start < passage.sentence_end <= passage.end
        assert passage.sentence.strip() == passage.sentence and passage.sentence


def test_a_syndicated_quote_collapses_into_one_result_listing_every_source(engine):
    result = engine.answer("Is the CSTO just a military partnership?", k=5)
    top = result.passages[0]
    sources = {top.source} | {s.source for s in top.also_in}
    assert sources == {
        "2024-astana-council-narrow-format.md",
        "2024-11-28-astana-summit-signed-documents.md",
    }
    shown = [p.source for p in result.passages]
    for copy in top.also_in:  # the copy is not shown again on its own
        assert copy.chunk_id not in {p.chunk_id for p in result.passages}
    assert len(shown) == 5


def test_dates_tell_apart_answers_from_different_years(engine):
    question = "Who is the CSTO Secretary General?"
    in_2020 = engine.answer(question, k=3, date_to="2020")
    assert any("Stanislav Zas" in p.text for p in in_2020.passages)
    assert {p.date for p in in_2020.passages} == {"2020-12-02"}
    in_2024 = engine.answer(question, k=1, date_from="2024")
    assert "Tasmagambetov" in in_2024.text


def test_each_leg_alone_still_answers(seed_index):
    for mode in ("dense", "lexical"):
        engine = Engine(CORPUS, seed_index, build_if_missing=False, mode=mode)
        result = engine.answer("Who is the President of Tajikistan?", k=3)
        assert any("Rahmon" in p.text for p in result.passages)


def test_a_signature_line_is_searchable_but_never_the_answer_sentence(embedder, tmp_path):
    corpus = tmp_path / "posts"
    corpus.mkdir()
    signature = "Jane Roe (@janeroe) May 1, 2015"
    (corpus / "post-1.md").write_text(
        f"---\ntitle: Post 1\n---\nThousands marched for the climate in the city today.\n\n"
        f"{signature}\n"
    )
    (corpus / "post-2.md").write_text(
        "---\ntitle: Post 2\n---\nThe bakery on Main Street opens at seven.\n"
    )
    engine = Engine(corpus, tmp_path / "index")
    result = engine.answer("What did Jane Roe (@janeroe) post on May 1, 2015?", k=2)
    assert result.source == "post-1.md"  # the signature still finds its post
    assert signature in result.passages[0].text
    assert result.text == "Thousands marched for the climate in the city today."


def test_who_said_it_of_a_post_in_the_first_person_is_answered_through_its_author(
    embedder, tmp_path
):
    corpus = tmp_path / "posts"
    corpus.mkdir()
    (corpus / "post-1.md").write_text(
        "We are continuing our search for the secret budget bill! Has anyone seen it?\n\n"
        "Jane Roe (@janeroe) March 3, 2017\n"
    )
    (corpus / "post-2.md").write_text(
        "He can't confirm the rumour about the harbour merger.\n\nJohn Doe (@johndoe) May 2, 2015\n"
    )
    engine = Engine(corpus, tmp_path / "index")
    result = engine.answer("Who is searching for the secret budget bill?", k=1)
    assert result.text.startswith("We are continuing our search")
    assert result.text.endswith("Jane Roe (@janeroe) March 3, 2017")  # the "we" is hers
    document = engine.document(result.source)
    assert document.text[result.start : result.end] == result.text
    # Someone else's words ("he") are not the author's; nor is a question of another kind.
    other = engine.answer("Who can't confirm the rumour about the harbour merger?", k=1)
    assert other.text == "He can't confirm the rumour about the harbour merger."
    what = engine.answer("What are we searching for?", k=1)
    assert "Jane Roe" not in what.text


def test_a_post_quoted_in_a_report_is_its_authors_but_the_report_is_not(embedder, tmp_path):
    corpus = tmp_path / "reports"
    corpus.mkdir()
    after = (
        "The council said the works on the northern pier would continue through the summer "
        "and the ferry timetable would not change. "
    ) * 5
    # Each quoted signature ends the report's first passage, not the report.
    (corpus / "report-a.md").write_text(
        "---\ntitle: Harbour report\n---\n"
        + "The harbour authority met on Monday to discuss the bridge. " * 7
        + "We will open the harbour bridge to cyclists next week! Jane Roe (@janeroe) May 1, "
        f"2015\n\n{after}\n"
    )
    (corpus / "report-b.md").write_text(
        "---\ntitle: Ferry report\n---\n"
        + "The port board met on Tuesday to discuss the ferries. " * 7
        + "We will close the old ferry pier next month, the mayor said. The pier opened long ago. "
        f"John Doe (@johndoe) May 2, 2015\n\n{after}\n"
    )
    engine = Engine(corpus, tmp_path / "index")
    quoted = engine.answer("Who will open the harbour bridge to cyclists?", k=1)
    assert quoted.text == (
        "We will open the harbour bridge to cyclists next week! Jane Roe (@janeroe) May 1, 2015"
    )
    reported = engine.answer("Who will close the old ferry pier?", k=1)
    assert reported.text == "We will close the old ferry pier next month, the mayor said."


@pytest.mark.parametrize(
    "line",
    [
        "Jane Roe (@janeroe) May 1, 2015",
        "John D. Sutter (@jdsutter) June 20, 2014",  # an initial
        "Gov. Asa Hutchinson (@AsaHutchinson) May 2, 2017",  # a title
        "U.S. Soccer (@ussoccer) September 3, 2014",
    ],
)
def test_a_signature_may_hold_initials_and_titles(line):
    assert is_signature(line)


@pytest.mark.parametrize(
    "sentence",
    [
        "You changed TV forever.— Josh Gad (@joshgad) September 30, 2013",
        "People do not like Ted.— Donald J. Trump (@realDonaldTrump) January 19, 2016",
    ],
)
def test_a_sentence_glued_to_a_signature_is_no_signature(sentence):
    assert not is_signature(sentence)


def test_the_top_hits_match_from_the_search_is_the_one_computed_afresh(engine):
    index = engine.index
    query = Query.read("Who is the Secretary-General of the CSTO?", engine.embedder)
    hits = search(index, query, 5, engine.params)
    assert hits[0].known is not None  # the rerank read it
    fresh = match(index, replace(hits[0], known=None), query)
    known = hits[0].known
    for name in ("passage_cosine", "sentence_cosine", "passage_maxsim", "sentence_maxsim"):
        # The same products, batched differently: equal up to float32 rounding.
        assert getattr(known, name) == pytest.approx(getattr(fresh, name), abs=1e-6)


def test_a_question_naming_the_author_of_a_post_gets_the_sentence_that_answers(embedder, tmp_path):
    corpus = tmp_path / "posts"
    corpus.mkdir()
    post = (
        "A slight case of the sniffles means I'm sitting out of the Opening Ceremony. Will be "
        "cheering from the couch. #manflu Kurt Fearnley (@kurtfearnley) July 23, 2014"
    )
    (corpus / "post-1.md").write_text(f"---\ntitle: Post 1\n---\n{post}\n")
    (corpus / "post-2.md").write_text("---\ntitle: Post 2\n---\nThe bakery opens at seven.\n")
    engine = Engine(corpus, tmp_path / "index")
    # The author's name, glued to the last sentence, no longer draws the question to it.
    sitting = engine.answer("What will Kurt Fearnley be sitting out of?", k=1)
    assert "Opening Ceremony" in sitting.text
    # The last sentence is shown with the signature glued to it, as written.
    couch = engine.answer("Who will be cheering from the couch?", k=1)
    assert (
        couch.text
        == "Will be cheering from the couch. #manflu Kurt Fearnley (@kurtfearnley) July 23, 2014"
    )
    document = engine.index.documents[0]
    assert document.text[couch.start : couch.end] == couch.text
    assert couch.passages[0].sentence == couch.text


def test_the_answer_type_read_best_first_picks_what_reading_every_sentence_picks():
    import numpy as np

    from qa.search.answers import holds
    from qa.search.query import SearchParams
    from qa.search.retrieval import _typed

    query = Query.read("When did the bridge open?")
    params = SearchParams()
    rng = np.random.default_rng(0)
    phrases = ["It opened in May 2015.", "The bridge is long.", "Jane Roe (@jr) May 1, 2015"]
    for _ in range(300):
        counts = rng.integers(1, 6, size=rng.integers(1, 8))
        owners = np.repeat(np.arange(len(counts)), counts)
        texts = [phrases[i] for i in rng.integers(0, 3, size=len(owners))]
        signatures = [text.startswith("Jane") for text in texts]
        # Scores drawn from few values, so that ties happen.
        scores = rng.choice([-2.0, 0.0, 1.5, 3.0, 6.0, 7.5], size=len(owners))
        rows = np.arange(len(owners))
        read_all = scores + params.answer_type * np.array(
            [holds(text, query.kind, query.text) for text in texts]
        )
        pruned = _typed(rows, owners, texts, signatures, query, params, scores)
        for scored in (read_all, pruned):
            scored[signatures] = min(read_all.min(), pruned.min()) - 1.0
        best = np.lexsort((-read_all, owners))[np.r_[0, np.cumsum(counts)[:-1]]]
        assert np.array_equal(np.lexsort((-pruned, owners))[np.r_[0, np.cumsum(counts)[:-1]]], best)


def test_a_near_tie_of_passages_goes_to_the_one_whose_sentence_answers(engine):
    # Two passages score within a hair of each other: one says "signed" of another
    # document, the other says where the treaty was signed.
    result = engine.answer("Where was the Collective Security Treaty signed?")
    assert "signed May 15, 1992 in Tashkent" in result.text
    assert result.text == result.passages[0].sentence


def test_a_tie_never_undoes_a_preference_and_a_clear_lead_stands():
    import numpy as np

    from qa.search.retrieval import _tie_to_sentence

    order, scores = np.array([0, 1, 2]), np.array([5.0, 4.9, 3.0])
    sentences = np.array([1.0, 9.0, 20.0])  # each candidate's best sentence's score

    def ordered(moved, tie):
        return _tie_to_sentence(order, scores, np.array(moved), sentences, tie).tolist()

    # Within the tie, the better sentence leads; the rest keep their order.
    assert ordered([0.0, 0.0, 0.0], 0.25) == [1, 0, 2]
    # A passage moved up by a preference (a date, a follow-up's article) keeps its place.
    assert ordered([1.0, 0.0, 0.0], 0.25) == [0, 1, 2]
    # Outside the tie, the passage scores decide.
    assert ordered([0.0, 0.0, 0.0], 0.05) == [0, 1, 2]


def test_the_lexical_legs_nominate_the_best_passages_and_break_ties_by_number(engine):
    import numpy as np

    from qa.search.retrieval import _top, _top_by_sentence

    index = engine.index
    owners = index.sentence_passages.tolist()
    rng = np.random.default_rng(0)
    for depth in (1, 3, 10, 60):
        for _ in range(40):
            # Mostly zero, as BM25's are; half the time few distinct values, so that ties
            # happen.
            scores = rng.choice([0.0, 0.0, 0.0, 1.0, 2.5, 4.0], size=len(owners))
            if rng.random() < 0.5:
                scores = (scores > 0) * rng.random(len(owners))
            scores = scores.astype(np.float32)
            allowed = rng.random(len(index.passages)) < 0.7 if rng.random() < 0.5 else None
            best: dict[int, float] = {}
            for sentence, passage in enumerate(owners):
                if scores[sentence] > 0 and (allowed is None or allowed[passage]):
                    best[passage] = max(best.get(passage, 0.0), float(scores[sentence]))
            wanted = sorted(best, key=lambda passage: (-best[passage], passage))[:depth]
            assert _top_by_sentence(index, scores, allowed, depth) == set(wanted)
            # From a floor too high for `depth` passages, lowered until it holds them.
            assert _top_by_sentence(index, scores, allowed, depth, spread=1) == set(wanted)
            passage_scores = scores[: len(index.passages)]
            kept = [p for p in range(len(passage_scores)) if allowed is None or allowed[p]]
            scoring = [p for p in kept if passage_scores[p] > 0]
            wanted = sorted(scoring, key=lambda p: (-passage_scores[p], p))[:depth]
            assert _top(passage_scores, allowed, depth) == set(wanted)
