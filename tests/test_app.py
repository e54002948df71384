"""The web chat end to end: a real server, real headless Chromium, a real gradio_client."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from tests.conftest import CORPUS, ROOT
from tests.pdfs import pdf_bytes

from qa.index.generations import build_lock
from qa.index.manifest import IndexUnusable
from qa.web.app import ChatService

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 90_000  # generous: the machine is shared; tests never assert on timings
INJECTION = """---
title: "Lighthouse <img src=x onerror=alert('title')> notes"
publisher: <b>Harbour</b> Gazette
date: 2021-06-01
---
The Zorbulan lighthouse was painted violet in 1911 <script>alert('body')</script> by the keeper.

Read more [here](http://evil.example/more) ![tracker](http://evil.example/pixel.png) or see
<img src="http://evil.example/x.png" onerror="alert('img')">
and <a href="javascript:alert(1)">this</a>.
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(seed_index, tmp_path_factory):
    """`python app.py` on a free port, over private copies of the corpus and the index."""
    root = tmp_path_factory.mktemp("app")
    corpus, index = root / "corpus", root / "index"
    shutil.copytree(CORPUS, corpus)
    shutil.copytree(seed_index, index)
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    log = (root / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--corpus", str(corpus), "--index", str(index),
         "--port", str(port)],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(url, process, root / "server.log")
        yield url, corpus
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the app exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the app did not start:\n{log.read_text()}")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    """A fresh page on the app that records dialogs and every request it makes."""
    url, _ = server
    page = browser.new_page(viewport={"width": 1360, "height": 1000})
    page.set_default_timeout(WAIT_MS)
    page.dialogs, page.requests = [], []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto(url)
    yield page
    page.close()


def _ask(page, question: str) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()


def _normal(text: str) -> str:
    return " ".join(text.split())


def test_a_question_gets_the_answer_sentence_and_its_source_card(page, engine):
    from playwright.sync_api import expect

    question = "When was the Collective Security Treaty signed?"
    expected = engine.answer(question, k=3)
    _ask(page, question)
    answer = page.locator("#chat .qa-answer-text").last
    answer.wait_for()
    expect(answer).to_be_in_viewport()  # the chat shows the answer's start, not its last card
    assert _normal(answer.inner_text()) == _normal(expected.text)
    card = page.locator("#chat .qa-card").first
    assert card.locator(".qa-file").inner_text() == expected.passages[0].source
    assert _normal(card.locator(".qa-title").inner_text()) == expected.passages[0].title
    assert _normal(card.locator(".qa-passage > mark.qa-sentence").inner_text()) == _normal(
        expected.text
    )
    assert page.locator("#chat .qa-card").count() == 3
    # The answered page is the README's picture: QA_SCREENSHOT=docs/screenshot.png saves it.
    if os.environ.get("QA_SCREENSHOT"):
        page.wait_for_timeout(800)  # let fonts and the scroll to the answer settle
        page.screenshot(path=os.environ["QA_SCREENSHOT"], full_page=True)


def test_an_empty_question_gets_a_message_not_a_trace(page):
    _ask(page, "   ")
    notice = page.locator("#notice .qa-notice")
    notice.wait_for()
    assert "question is empty" in notice.inner_text()
    assert page.locator("#chat .qa-answer").count() == 0


def test_gradio_client_ask_returns_the_cli_json(server, engine):
    from gradio_client import Client

    url, _ = server
    client = Client(url, verbose=False)
    question = "Who is the Secretary-General of the CSTO?"
    got = client.predict(question, 2, api_name="/ask")
    expected = engine.answer(question, k=2).to_dict()
    assert [p["chunk_id"] for p in got["passages"]] == [p["chunk_id"] for p in expected["passages"]]
    for passage in got["passages"] + expected["passages"]:
        passage.pop("score")
    assert got == expected
    assert len(client.predict(question, api_name="/ask")["passages"]) == 5


def test_an_uploaded_article_with_injections_is_answered_and_shown_as_text(page, server, tmp_path):
    url, corpus = server
    article = tmp_path / "lighthouse.md"
    article.write_text(INJECTION)
    page.locator("#upload input[type=file]").set_input_files(str(article))
    status = page.locator("#build-status .qa-ok", has_text="Indexed")
    status.wait_for()  # "Added lighthouse.md: rebuilding…" comes first
    assert "Indexed 6 documents" in status.inner_text()
    assert (corpus / "lighthouse.md").read_text() == INJECTION

    _ask(page, "What colour was the Zorbulan lighthouse painted?")
    file = page.locator(".qa-file", has_text="lighthouse.md")
    card = page.locator("#chat .qa-card").filter(has=file).first
    card.wait_for()
    assert card.locator(".qa-title").inner_text() == (
        "Lighthouse <img src=x onerror=alert('title')> notes"
    )
    assert "<b>Harbour</b> Gazette" in card.locator(".qa-meta").inner_text()
    card.locator("summary").click()
    shown = card.inner_text()
    for literal in (
        "<script>alert('body')</script>",
        "[here](http://evil.example/more)",
        "![tracker](http://evil.example/pixel.png)",
        '<img src="http://evil.example/x.png" onerror="alert(\'img\')">',
        '<a href="javascript:alert(1)">this</a>',
    ):
        assert literal in shown
    chat = page.locator("#chat")
    assert chat.locator("script, img[src*=evil], a[href*=evil], a[href^=javascript]").count() == 0
    page.wait_for_timeout(500)  # give anything that might fire a chance to
    assert page.dialogs == []
    hosts = {urlparse(r).netloc for r in page.requests if r.startswith(("http", "ws"))}
    assert hosts == {urlparse(url).netloc}


def test_a_rejected_upload_says_why(page, tmp_path):
    script = tmp_path / "run.sh"
    script.write_text("echo hi\n")
    page.locator("#upload input[type=file]").set_input_files(str(script))
    status = page.locator("#build-status .qa-error")
    status.wait_for()
    assert "run.sh: only .md, .txt, .html, .htm, .pdf files are accepted" in status.inner_text()


def _articles(corpus: Path) -> int:
    return sum(1 for path in corpus.iterdir() if not path.name.startswith("."))


def test_rebuild_embeds_only_the_edited_file_and_reports_it(page, server):
    _, corpus = server
    edited = corpus / "2024-astana-council-narrow-format.md"
    edited.write_text(edited.read_text() + "\nThe delegates also planted a cedar in Astana.\n")
    page.locator("#rebuild").click()
    status = page.locator("#build-status .qa-ok", has_text="Indexed")
    status.wait_for()
    shown = status.inner_text()
    count = _articles(corpus)
    assert f"Indexed {count} documents" in shown and "(updated)" in shown
    assert f"added 0 · changed 1 · removed 0 · unchanged {count - 1} · skipped 0" in shown
    assert f"changed {edited.name}" in shown
    embedded = shown.split("embedded ")[1].split(" sentences")[0]
    passages, sentences = (int(n.split()[0]) for n in embedded.split(", "))
    assert 0 < passages < sentences  # the edited file's, not the corpus's
    _ask(page, "What did the delegates plant?")
    answer = page.locator("#chat .qa-answer-text").last
    answer.wait_for()
    assert _normal(answer.inner_text()) == "The delegates also planted a cedar in Astana."

    page.locator("#rebuild").click()  # nothing changed since
    page.locator("#build-status .qa-ok", has_text="no changes").wait_for()
    assert "embedded 0 passages, 0 sentences" in page.locator("#build-status").inner_text()


def test_an_uploaded_pdf_is_added_and_cited_with_its_page(page, server, tmp_path):
    _, corpus = server
    pdf = tmp_path / "treaty-report.pdf"
    pdf.write_bytes(
        pdf_bytes([["Page one is about the weather."], ["The Zorbulan treaty was signed in Osh."]])
    )
    before = _articles(corpus)
    page.locator("#upload input[type=file]").set_input_files(str(pdf))
    status = page.locator("#build-status .qa-ok", has_text="Indexed")
    status.wait_for()
    shown = status.inner_text()
    assert f"added 1 · changed 0 · removed 0 · unchanged {before} · skipped 0" in shown
    assert "added treaty-report.pdf" in shown
    _ask(page, "Where was the Zorbulan treaty signed?")
    card = page.locator("#chat .qa-card").first
    card.wait_for()
    assert card.locator(".qa-file").inner_text() == "treaty-report.pdf"
    assert "page 2" in card.locator(".qa-meta").inner_text()
    assert _normal(card.locator(".qa-passage").inner_text()) == (
        "The Zorbulan treaty was signed in Osh."
    )


def test_a_rebuild_waiting_for_another_build_says_so_then_finishes(page, server):
    _, corpus = server
    index = corpus.parent / "index"
    with build_lock(index):  # as `qa index` in another process would
        page.locator("#rebuild").click()
        page.get_by_text("is writing", exact=False).first.wait_for()
        assert f"another build (pid {os.getpid()})" in page.locator("#build-status").inner_text()
    page.locator("#build-status .qa-ok", has_text="no changes").wait_for()


def test_an_unusable_index_is_a_message_for_the_page(tmp_path):
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "CURRENT").write_text("gen-missing\n")
    service = ChatService(CORPUS, tmp_path / "index", build_if_missing=False)
    assert service.engine is None and "qa index --full" in service.error
    with pytest.raises(IndexUnusable, match="qa index --full"):
        service.ask("Who chaired the meeting?")
    with pytest.raises(ValueError, match="empty"):
        service.ask("  ")


def test_an_index_whose_model_is_not_here_is_a_message_naming_the_fix(index_copy):
    manifest = index_copy / (index_copy / "CURRENT").read_text().strip() / "manifest.json"
    data = json.loads(manifest.read_text())
    data["model"] = data["settings"]["model"] = "no-such-model"
    manifest.write_text(json.dumps(data))
    service = ChatService(CORPUS, index_copy, build_if_missing=False)
    assert service.engine is None
    assert "'no-such-model'" in service.error
    assert "qa index --full --model all-MiniLM-L6-v2" in service.error


def test_the_app_loads_an_index_built_elsewhere_after_an_unusable_one(seed_index, tmp_path):
    index = tmp_path / "index"
    index.mkdir()
    (index / "CURRENT").write_text("gen-missing\n")
    service = ChatService(CORPUS, index, build_if_missing=False)
    assert service.engine is None
    with pytest.raises(IndexUnusable):  # nothing new is live: no second try to load it
        service.ask("When was the Collective Security Treaty signed?")
    shutil.rmtree(index)
    shutil.copytree(seed_index, index)  # as `qa index --full` in a terminal would
    answer = service.ask("When was the Collective Security Treaty signed?")
    assert answer.source == "2020-12-02-tokayev-csto-videoconference.md"
    assert service.error is None


def test_uploads_land_in_the_corpus_folder_only(tmp_path):
    service = ChatService(tmp_path / "corpus", tmp_path / "index", build_if_missing=False)
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    for name in ("good.md", ".hidden.md", "bad.exe"):
        (uploads / name).write_text("Some text.\n")
    saved, rejected = service.save_uploads([str(p) for p in sorted(uploads.iterdir())])
    assert saved == ["good.md"]
    assert [r.split(":")[0] for r in rejected] == ["'.hidden.md'", "bad.exe"]
    assert [p.name for p in (tmp_path / "corpus").iterdir()] == ["good.md"]
