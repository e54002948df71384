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
from qa.web.app import EXAMPLES
from qa.web.service import ChatService

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
        "TMPDIR": str(root / "tmp"),  # where the app keeps its exports while it runs
    }
    (root / "tmp").mkdir()
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
    # Stopped as a service manager stops it (SIGTERM), it removed the conversations it kept
    # for download, its own files and gradio's copies (gradio leaves empty upload stubs).
    left = [path for path in (root / "tmp").rglob("*") if path.is_file() and path.stat().st_size]
    assert left == []


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


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1360, "height": 1000}


@pytest.fixture(params=[DESKTOP], ids=["desktop"])
def page(request, browser, server):
    """A fresh page on the app (1360×1000 unless a test asks for other viewports) that
    records dialogs and every request it makes, and may use the clipboard."""
    url, _ = server
    page = browser.new_page(
        viewport=request.param, permissions=["clipboard-read", "clipboard-write"]
    )
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


@pytest.mark.parametrize("page", [DESKTOP, PHONE], ids=["desktop", "phone"], indirect=True)
def test_a_question_gets_the_answer_sentence_its_citations_and_the_export(page, engine):
    from playwright.sync_api import expect

    page.locator("#question textarea").wait_for()
    assert page.evaluate("window.scrollY") == 0  # the page opens at its header
    page.keyboard.press("/")  # focuses the question box; Esc clears it
    page.keyboard.type("something to clear")
    page.keyboard.press("Escape")
    assert page.locator("#question textarea").input_value() == ""
    page.get_by_role("button", name=EXAMPLES[0]).click()  # an example asks at once
    page.locator("#chat .qa-answer-text").first.wait_for()

    question = "When was the Collective Security Treaty signed?"
    expected = engine.answer(question, k=3)
    _ask(page, question)
    page.locator("#chat .qa-answer").nth(1).wait_for()
    answer = page.locator("#chat .qa-answer-text").last
    expect(answer).to_be_in_viewport()  # the newest answer's start, at every width
    first_line = answer.bounding_box()["y"]
    assert 0 <= first_line and first_line + 24 <= page.viewport_size["height"]
    assert _normal(answer.inner_text()) == _normal(expected.text) + " [1]"
    cards = page.locator("#chat .qa-answer").last.locator(".qa-card")
    assert cards.count() == 3
    # The answered page is the README's picture: QA_SCREENSHOT=docs/screenshot.png saves it.
    if os.environ.get("QA_SCREENSHOT"):
        page.wait_for_timeout(800)  # let fonts and the scroll to the answer settle
        shot = Path(os.environ["QA_SCREENSHOT"])
        if page.viewport_size["width"] < 600:
            shot = shot.with_name(f"{shot.stem}-phone{shot.suffix}")
        page.screenshot(path=str(shot), full_page=page.viewport_size["width"] >= 600)
    card = cards.first
    assert card.locator(".qa-file").inner_text() == expected.passages[0].source
    assert _normal(card.locator(".qa-title").inner_text()) == expected.passages[0].title
    assert _normal(card.locator(".qa-passage > mark.qa-sentence").inner_text()) == _normal(
        expected.text
    )

    page.locator("#chat .qa-answer").last.locator(".qa-sources a.qa-cite", has_text="[3]").click()
    expect(cards.nth(2)).to_have_class("qa-card qa-highlight")
    expect(cards.nth(2)).to_be_in_viewport()
    assert page.locator("#chat .qa-card.qa-highlight").count() == 1

    card.locator("summary").click()  # the whole article opens at the marked passage
    expect(card.locator(".qa-article-text mark.qa-marked")).to_be_in_viewport()
    box = card.locator(".qa-article-text").bounding_box()
    mark = card.locator(".qa-article-text mark.qa-marked").bounding_box()
    assert box["y"] <= mark["y"] < box["y"] + box["height"]

    page.locator("#chat .qa-answer").last.locator("button.qa-copy").click()
    expect(page.locator("#chat button.qa-copy", has_text="Copied")).to_have_count(1)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"“{_normal(expected.text)}” [1]")
    assert expected.passages[0].source in copied

    with page.expect_download() as download:
        page.locator("#export").click()
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert f"## 2. {question}" in markdown and f"> {_normal(expected.text)} [1]" in markdown
    for passage in expected.passages:
        cited = f"{passage.source}, characters {passage.start}–{passage.end}"
        assert cited in markdown and _normal(passage.title) in markdown


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
    log = (server[1].parent / "server.log").read_text()
    assert f"qa: the chat is on {url}" in log and "share=True" not in log


def test_an_uploaded_article_with_injections_is_answered_and_shown_as_text(page, server, tmp_path):
    url, corpus = server
    article, tool = tmp_path / "lighthouse.md", tmp_path / "tool.exe"
    article.write_text(INJECTION)
    tool.write_bytes(b"MZ")
    page.locator("#upload input[type=file]").set_input_files([str(tool), str(article)])
    status = page.locator("#build-status .qa-error", has_text="Indexed")
    status.wait_for()  # "Added lighthouse.md: rebuilding…" comes first
    shown = status.inner_text()  # one report: the rejection stays beside the build's
    assert "Rejected tool.exe: only .md, .txt, .html, .htm, .pdf files are accepted" in shown
    assert "Indexed 6 documents" in shown and "added lighthouse.md" in shown
    assert (corpus / "lighthouse.md").read_text() == INJECTION
    assert not (corpus / "tool.exe").exists()
    assert page.locator("#upload").get_by_text("lighthouse.md").count() == 0  # emptied

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
    assert _normal(answer.inner_text()) == "The delegates also planted a cedar in Astana. [1]"

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


def test_the_page_offers_the_example_questions_its_articles_answer(seed_index, tmp_path):
    service = ChatService(CORPUS, seed_index, build_if_missing=False)
    assert service.answerable(EXAMPLES) == list(EXAMPLES)
    posts = tmp_path / "posts"
    posts.mkdir()
    for number, text in enumerate(
        ["The bakery on Main Street opens at seven.", "Snow closed the mountain road tonight."]
    ):
        (posts / f"post-{number}.md").write_text(text + "\n")
    other = ChatService(posts, tmp_path / "index")  # a folder about something else
    assert other.answerable(EXAMPLES) == []
    assert other.answerable(["When does the bakery open?"]) == ["When does the bakery open?"]
    nothing = ChatService(CORPUS, tmp_path / "none", build_if_missing=False)
    assert nothing.answerable(EXAMPLES) == []  # no index loaded


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
    outcomes = service.save_uploads([str(p) for p in sorted(uploads.iterdir())])
    assert [o.name for o in outcomes] == [".hidden.md", "bad.exe", "good.md"]
    assert [(o.reason or "saved").split(":")[0] for o in outcomes] == [
        "'.hidden.md'",
        "bad.exe",
        "saved",
    ]
    assert [p.name for p in (tmp_path / "corpus").iterdir()] == ["good.md"]


@pytest.mark.parametrize("page", [PHONE], ids=["phone"], indirect=True)
def test_delete_asks_moves_the_file_to_the_trash_and_the_article_no_longer_answers(page, server):
    from playwright.sync_api import expect

    _, corpus = server
    (corpus / "kestrel.md").write_text("The Vardanian kestrel nests only on basalt cliffs.\n")
    page.locator("#rebuild").click()
    page.locator("#build-status .qa-ok", has_text="added kestrel.md").wait_for()
    question = "Where does the Vardanian kestrel nest?"
    _ask(page, question)
    page.locator("#chat .qa-file", has_text="kestrel.md").first.wait_for()

    page.get_by_role("tab", name="Documents").click()
    assert "kestrel.md" in page.locator("#documents table").inner_text()
    page.locator("#doc-choice input").fill("kestrel")
    page.get_by_role("option", name="kestrel.md", exact=False).click()
    page.locator("#doc-open").click()
    expect(page.locator("#doc-view .qa-article-text")).to_contain_text("basalt cliffs")
    page.locator("#doc-delete").click()
    expect(page.locator("#docs-status")).to_contain_text("Move kestrel.md to corpus/.trash/")
    assert (corpus / "kestrel.md").exists()  # nothing happens before the answer
    page.locator("#doc-confirm").click()
    expect(page.locator("#docs-status")).to_contain_text("Indexed", timeout=WAIT_MS)
    assert (
        "Moved kestrel.md to corpus/.trash/kestrel.md" in page.locator("#docs-status").inner_text()
    )
    assert not (corpus / "kestrel.md").exists()
    assert (corpus / ".trash" / "kestrel.md").read_text().startswith("The Vardanian kestrel")
    assert "kestrel.md" not in page.locator("#documents table").inner_text()

    page.get_by_role("tab", name="Chat").click()
    _ask(page, question)
    page.locator("#chat .qa-answer").nth(1).wait_for()
    assert (
        page.locator("#chat .qa-answer").last.locator(".qa-file", has_text="kestrel").count() == 0
    )

    _ask(page, "What is the capital of Australia?")  # nothing in these articles says
    page.locator("#chat .qa-answer").nth(2).wait_for()
    newest = page.locator("#chat .qa-answer").last
    expect(newest.locator(".qa-not-found-text")).to_have_text("Not found in these articles")
    assert newest.locator(".qa-answer-text").count() == 0

    _ask(page, "What new position did Tokayev propose in 2020?")
    page.locator("#chat .qa-answer").nth(3).wait_for()
    _ask(page, "What was it called?")  # a follow-up: the chat passes the earlier questions
    page.locator("#chat .qa-answer").nth(4).wait_for()
    expect(page.locator("#chat .qa-answer-text").last).to_contain_text(
        "Special Representative of CSTO Secretary General"
    )


def test_documents_skipped_files_and_delete_without_a_browser(corpus_copy, index_copy):
    service = ChatService(corpus_copy, index_copy, build_if_missing=False)
    rows = service.documents()
    assert [r.source for r in rows] == list(service.engine.info().sources)
    assert sum(r.passages for r in rows) == service.engine.info().passages
    (corpus_copy / "new.md").write_text("Not indexed yet.\n")
    (corpus_copy / "photo.jpg").write_bytes(b"\xff\xd8")
    assert [(s.source, s.reason.split(":")[0]) for s in service.skipped()] == [
        ("new.md", "not in the index yet"),
        ("photo.jpg", "not read"),
    ]
    source = rows[0].source
    moved = service.delete(source)
    assert moved == corpus_copy / ".trash" / source and moved.is_file()
    assert not (corpus_copy / source).exists()
    with pytest.raises(ValueError, match="no longer in the corpus folder"):
        service.delete(source)
    with pytest.raises(ValueError, match="not an indexed article"):
        service.delete("../outside.md")
    shutil.copy(moved, corpus_copy / source)  # back, and deleted again: both copies are kept
    again = service.delete(source)
    assert again.parent == moved.parent and again != moved and moved.is_file()
