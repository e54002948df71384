"""`qa api`: Engine replicas on Ray Serve answer as one Engine does, and follow new builds."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from tests.conftest import CORPUS

from qa.api import parse_request, running_api
from qa.cli import main
from qa.index.build import build_index
from qa.web.service import ChatService

QUESTIONS = (
    "Who is the Secretary-General of the CSTO?",
    "Which city hosted the 2024 session?",
    "When was the Collective Security Treaty signed?",
    "Who chaired the 2020 videoconference?",
)
DELETED = "2023-minsk-tokayev-chairmanship-priorities.md"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(url: str, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _same_answer(got: dict, want: dict) -> None:
    """Equal but for the scores' last digit: the replicas run torch on one thread."""
    assert [p.pop("score") for p in got["passages"]] == pytest.approx(
        [p.pop("score") for p in want["passages"]], abs=2e-3
    )
    assert got == want


@pytest.mark.ray
def test_two_replicas_answer_concurrent_questions_as_one_engine(
    ray_connected, engine, corpus_copy, index_copy
):
    with running_api(
        corpus_copy, index_copy, replicas=2, port=_free_port(), address=ray_connected
    ) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/ask")
        asked = [(question, k) for question in QUESTIONS for k in (1, 3)]  # 8 at 4 at a time
        with ThreadPoolExecutor(4) as pool:
            replies = list(pool.map(lambda a: _post(url, {"question": a[0], "k": a[1]}), asked))
        for (question, k), (status, got) in zip(asked, replies):
            assert status == 200
            _same_answer(got, engine.answer(question, k).to_dict())

        assert _post(url, {"question": "  "}) == (
            400,
            {"error": "the question is empty: ask something"},
        )
        status, reply = _post(url, ["not", "an", "object"])
        assert status == 400 and reply["error"].startswith("no question: POST a JSON object")

        # The web chat with the endpoint as its back end: the same answers, with its options.
        chat = ChatService(corpus_copy, index_copy, build_if_missing=False, api=url)
        for question in QUESTIONS[:2]:
            options = {"date_from": "2020", "history": ["Who is the Secretary-General?"]}
            _same_answer(
                chat.ask(question, 3, **options).to_dict(),
                engine.answer(question, 3, **options).to_dict(),
            )
        with pytest.raises(ValueError, match="k must be a whole number"):  # the endpoint's 400
            chat.ask("Who?", 0)

        # A build made elsewhere: the replicas answer from it at their next question.
        (corpus_copy / DELETED).unlink()
        build_index(corpus_copy, index_copy)
        for _ in range(4):
            status, got = _post(url, {"question": QUESTIONS[0], "k": 1000})
            assert status == 200
            assert DELETED not in {p["source"] for p in got["passages"]}


def test_a_request_is_a_question_and_k():
    assert parse_request({"question": "Who?"}) == ("Who?", 5, {})
    assert parse_request({"question": "Who?", "k": 2}) == ("Who?", 2, {})
    full = {"question": "And in 2023?", "k": 3, "date_from": "2023", "history": ["Who?"]}
    assert parse_request(full) == ("And in 2023?", 3, {"date_from": "2023", "history": ["Who?"]})
    for bad in (
        [],
        {"q": "Who?"},
        {"question": 3},
        {"question": "Who?", "k": "2"},
        {"question": "Who?", "date_to": 2024},
        {"question": "Who?", "sources": "a.md"},
    ):
        with pytest.raises(ValueError):
            parse_request(bad)


def test_qa_api_needs_at_least_one_replica(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["api", "--replicas", "0", "--corpus", str(CORPUS)])
    assert exit.value.code == 2
    assert "--replicas: must be a whole number of at least 1, got '0'" in capsys.readouterr().err
