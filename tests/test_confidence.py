from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from tests.conftest import ROOT

from qa import Engine
from qa.evaluate import contains_answer, read_questions
from qa.search.confidence import (
    DIRECTIONS,
    MODEL_FILE,
    Model,
    Models,
    Signals,
    default_models,
    describe,
    signal_names,
    signals,
)
from qa.search.retrieval import Match

# A copy of ../shared/bench/seed_dev_qa.jsonl: questions about the seed articles.
SEED_QUESTIONS = ROOT / "tests" / "seed_dev_qa.jsonl"
# The committed fit's confidence for EXAMPLE, on short posts and on longer passages; a refit
# changes them.
EXPECTED_EXAMPLE = {"short_posts": 0.6673, "longer_passages": 0.60884}
EXAMPLE = Signals(
    passage_cosine=0.55,
    sentence_cosine=0.62,
    passage_maxsim=0.8,
    sentence_maxsim=0.78,
    passage_coverage=0.75,
    sentence_coverage=0.5,
    missing_numbers=0.0,
    missing_names=0.5,
    negation_mismatch=0.0,
    margin=0.4,
)


def _random_signals(rng: np.random.Generator) -> Signals:
    values = {name: float(rng.uniform(-1, 1)) for name in signal_names()}
    for name in ("passage_coverage", "sentence_coverage", "missing_numbers", "missing_names"):
        values[name] = abs(values[name])
    values["negation_mismatch"] = float(values["negation_mismatch"] > 0)
    values["margin"] = 4 * abs(values["margin"])
    return Signals(**values)


def _kinds_and_a_mix() -> list[Model]:
    models = default_models()
    return [models.short, models.long, models.for_corpus(models.short_chars + 100)]


@pytest.mark.parametrize("model", _kinds_and_a_mix(), ids=["short posts", "longer", "between"])
def test_confidence_is_a_probability_and_monotone_in_each_signal(model):
    for name, weight in model.weights.items():
        assert weight == 0 or np.sign(weight) == DIRECTIONS[name], name
    rng = np.random.default_rng(0)
    for _ in range(200):
        base = _random_signals(rng)
        p = model.confidence(base)
        assert 0.0 <= p <= 1.0
        for name, direction in DIRECTIONS.items():
            moved = model.confidence(replace(base, **{name: getattr(base, name) + 0.3}))
            assert (moved - p) * direction >= 0, name
    extreme = Signals(**{name: 1e6 * d for name, d in DIRECTIONS.items()})
    assert model.confidence(extreme) == 1.0
    assert model.confidence(replace(extreme, **{n: -v for n, v in extreme.to_dict().items()})) == 0


def test_the_models_load_from_their_committed_file_and_give_the_same_values():
    data = json.loads(MODEL_FILE.read_text())
    assert "bench/fit_confidence.py" in data["command"]
    models = Models.load(MODEL_FILE)
    assert models == default_models()
    for kind, model in (("short_posts", models.short), ("longer_passages", models.long)):
        fitted = data[kind]
        z = fitted["intercept"] + sum(w * getattr(EXAMPLE, n) for n, w in fitted["weights"].items())
        assert model.confidence(EXAMPLE) == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-12)
        assert model.confidence(EXAMPLE) == pytest.approx(EXPECTED_EXAMPLE[kind], abs=5e-5)
        assert model.threshold == models.threshold == data["threshold"]
    assert models.short_chars < models.long_chars


def test_a_corpus_gets_the_model_of_its_kind_and_between_kinds_a_mix():
    models = default_models()
    assert models.for_corpus(0) == models.for_corpus(models.short_chars) == models.short
    assert models.for_corpus(models.long_chars) == models.for_corpus(10**6) == models.long
    halfway = models.for_corpus((models.short_chars + models.long_chars) / 2)
    assert models.longer_share(models.short_chars) == 0.0
    assert models.longer_share((models.short_chars + models.long_chars) / 2) == 0.5
    assert models.longer_share(models.long_chars) == 1.0
    for name in set(models.short.weights) | set(models.long.weights):
        expected = (models.short.weights.get(name, 0) + models.long.weights.get(name, 0)) / 2
        assert halfway.weights[name] == pytest.approx(expected)
    assert halfway.intercept == pytest.approx((models.short.intercept + models.long.intercept) / 2)
    assert halfway.threshold == models.threshold
    # In logit space the mix lies between the two kinds.
    low, high = sorted(m.confidence(EXAMPLE) for m in (models.short, models.long))
    assert low <= halfway.confidence(EXAMPLE) <= high


def test_the_engine_reads_the_kind_of_corpus_from_its_index(engine, tmp_path):
    # The seed articles are news reports: passages of about 500 characters.
    models = default_models()
    assert engine.index.passage_chars >= models.long_chars
    assert engine.confidence_model == models.long
    # A folder of short posts, one sentence or two each.
    posts = tmp_path / "posts"
    posts.mkdir()
    for number, text in enumerate(
        [
            "Snow closed the mountain road tonight. Drive safe, everyone!",
            "Our bakery opens its second shop on Main Street this Saturday.",
            "Congratulations to the river rowing team on a gold medal today.",
            "The library extends its hours during exam week #studyhard",
            "Rain again. The city marathon is moved to next Sunday.",
        ]
    ):
        (posts / f"post-{number}.txt").write_text(text + "\n", encoding="utf-8")
    short = Engine(posts, tmp_path / "index")
    assert short.index.passage_chars <= models.short_chars
    assert short.index.manifest.passage_chars == short.index.passage_chars
    assert short.confidence_model == models.short
    answer, signals_ = short.answer_with_signals("When is the city marathon?", k=1)
    assert answer.confidence == round(models.short.confidence(signals_), 4)


def test_a_model_naming_an_unknown_signal_is_refused():
    with pytest.raises(ValueError, match="unknown signals"):
        Model({"question_length": 1.0}, 0.0, 0.5)


def test_signals_compare_question_and_answer_not_the_question_alone():
    match = Match(0.5, 0.6, 0.7, 0.8)
    s = signals(
        "Why did Tesla not go to Paris in 1884?",
        match,
        title="Nikola Tesla",
        passage="In 1884 Tesla moved to New York. He never went back.",
        sentence="In 1884 Tesla moved to New York.",
        margin=0.25,
    )
    assert (s.passage_cosine, s.sentence_cosine, s.passage_maxsim, s.sentence_maxsim) == (
        0.5,
        0.6,
        0.7,
        0.8,
    )
    assert s.missing_numbers == 0.0  # 1884 is in the sentence
    assert s.missing_names == 0.5  # Tesla is there (and in the title), Paris is not
    assert s.negation_mismatch == 1.0  # "not" in the question, none in the sentence
    assert s.passage_coverage == 0.5  # tesla, 1884 of tesla, go, pari(s), 1884 ("why",
    assert s.sentence_coverage == 0.5  # "did", "not" are stopwords)
    assert s.margin == 0.25
    same = signals("When did Tesla go to New York?", match, "", "", "Tesla went in 1884.", 0)
    assert same.negation_mismatch == 0.0 and same.missing_numbers == 0.0
    assert signals("What in 1885?", match, "", "", "In 1884.", 0).missing_numbers == 1.0
    # "Not only ... but also" adds rather than denies.
    added = signals("Who attended?", match, "", "", "Not only Putin but also Rahmon came.", 0)
    assert added.negation_mismatch == 0.0
    # A yes-or-no question may be answered by a negation.
    yes_no = signals("Did Armenia attend?", match, "", "", "Armenia did not attend.", 0)
    assert yes_no.negation_mismatch == 0.0
    # The year a question names may be the article's date rather than in the sentence.
    dated = signals("Who spoke in 2024?", match, "Summit", "", "Tokayev spoke.", 0, "2024-11-28")
    assert dated.missing_numbers == 0.0
    # ... or named relative to it.
    ahead = signals("Who chairs in 2025?", match, "", "", "Next year, Kyrgyzstan.", 0, "2024-11-28")
    assert ahead.missing_numbers == 0.0
    assert signals("Who chairs in 2025?", match, "", "", "Kyrgyzstan.", 0, "2024").missing_numbers


def test_confidence_in_words():
    assert describe(0.8612, True) == "likely right (0.86)"
    assert describe(0.6, True) == "may be right (0.60)"
    assert describe(0.45, True) == "doubtful (0.45)"
    assert describe(0.1, False) == "unlikely (0.10)"


@pytest.mark.parametrize(
    "question", ["What is the capital of Australia?", "qwertz asdfgh yxcvbn", "sdlkfj woeiru?"]
)
def test_an_off_topic_question_is_not_found(engine, question):
    answer = engine.answer(question, k=3)
    assert not answer.found and answer.confidence < engine.threshold
    assert answer.passages  # the closest passages still come back


def test_seed_questions_whose_top_passage_is_right_are_found(engine):
    right = [
        (question, engine.answer(question, k=3))
        for question, answers in read_questions(SEED_QUESTIONS)
    ]
    right = [
        (q, a)
        for (q, a), (_, answers) in zip(right, read_questions(SEED_QUESTIONS))
        if contains_answer(a.passages[0].text, answers)
    ]
    assert len(right) >= 11  # hit@1 on these questions (BENCHMARKS.md)
    # Measured: 11 of the 12 are found; the twelfth, whose answer sentence shares few words
    # with the question, scores below the threshold (BENCHMARKS.md).
    assert len([q for q, a in right if not a.found]) <= 1


def test_json_and_from_dict_carry_confidence_and_found(engine):
    answer = engine.answer("When was the Collective Security Treaty signed?", k=2)
    data = json.loads(answer.to_json())
    assert data["confidence"] == answer.confidence and data["found"] is answer.found is True
    assert 0 < answer.confidence <= 1
    again = type(answer).from_dict(data)
    assert (again.confidence, again.found) == (answer.confidence, answer.found)
    older = {k: v for k, v in data.items() if k not in ("confidence", "found")}
    assert type(answer).from_dict(older).found is False  # JSON from before these fields
