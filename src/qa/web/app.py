"""The Gradio web chat over one corpus and its index (`qa serve`, `python app.py`)."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from qa.engine import Engine
from qa.index.build import BuildReport, build_index
from qa.index.generations import IndexNotWritable, current_generation
from qa.index.manifest import IndexUnusable
from qa.results import Answer
from qa.settings import DEFAULT_MODEL
from qa.web import render

TITLE = "qa · ask the articles"
EXAMPLES = (
    "Who is the Secretary-General of the CSTO?",
    "Which city hosted the 2024 session?",
    "When was the Collective Security Treaty signed?",
)


class ChatService:
    """The app's state: an engine over a corpus and index, swapped safely on rebuilds.

    Args:
        corpus: the folder of articles (uploads are saved here).
        index: the index folder.
        build_if_missing: build the index at start when there is none.
    """

    def __init__(self, corpus: str | Path, index: str | Path, build_if_missing: bool = True):
        self.corpus_dir = Path(corpus)
        self.index_dir = Path(index)
        self._build_lock = threading.Lock()
        self.engine: Engine | None = None
        self.error: str | None = None
        self._failed_at: str | None = None  # the live generation when loading last failed
        self._open(build_if_missing)

    def _open(self, build_if_missing: bool = False) -> None:
        """Load the engine, or keep why it cannot be loaded in `error`."""
        self._failed_at = current_generation(self.index_dir)
        try:
            self.engine = Engine(
                self.corpus_dir, self.index_dir, build_if_missing=build_if_missing, progress=True
            )
            self.error = None
        except (IndexUnusable, FileNotFoundError) as error:
            self.error = str(error)
        except ValueError as error:  # the index's model is not on this machine
            self.error = (
                f"{error} Run `qa index --full --model {DEFAULT_MODEL}` to rebuild the index "
                "with a model this machine has."
            )

    def current(self) -> Engine | None:
        """The engine; while there is none, it is loaded again once a build made elsewhere
        (`qa index --full`) has put a new generation live."""
        if self.engine is None and current_generation(self.index_dir) != self._failed_at:
            if self._build_lock.acquire(blocking=False):  # a rebuild running here loads it
                try:
                    if self.engine is None:
                        self._open()
                finally:
                    self._build_lock.release()
        return self.engine

    def ask(self, question: str, k: int = 5, **filters) -> Answer:
        """Answer `question` (filters as for `Engine.answer`).

        Raises:
            ValueError: an empty question, a bad `k` or date.
            IndexUnusable: there is no usable index (the message says how to get one).
        """
        if not isinstance(question, str) or not question.strip():
            raise ValueError("The question is empty: type a question first.")
        engine = self.current()
        if engine is None:
            raise IndexUnusable(self.error or "no index is loaded")
        return engine.answer(question, k, **filters)

    def articles(self, answer: Answer) -> dict[str, str]:
        """The text of each article `answer` quotes, for the whole-article view."""
        texts = {}
        engine = self.engine
        for passage in answer.passages if engine else ():
            try:
                texts[passage.source] = engine.document(passage.source).text
            except KeyError:  # rebuilt without it meanwhile
                continue
        return texts

    def rebuild(self, on_wait: Callable[[str], None] | None = None) -> BuildReport:
        """Bring the index up to date with the corpus and serve the new one: only new and
        changed files are embedded. One build at a time.

        Args:
            on_wait: called with a message when another process's build holds the index.

        Raises:
            FileNotFoundError: the corpus folder is gone.
        """
        with self._build_lock:
            if self.engine is not None:
                report = self.engine.build(on_wait=on_wait)
            else:  # no usable index to hold an engine: the build replaces it
                report = build_index(
                    self.corpus_dir, self.index_dir, progress=True, on_wait=on_wait
                )
                self.engine = Engine(
                    self.corpus_dir, self.index_dir, build_if_missing=False, progress=True
                )  # progress: its later builds show a bar too
            self.error = None
            return report

    def save_uploads(self, paths: list[str]) -> tuple[list[str], list[str]]:
        """Copy uploaded files into the corpus folder.

        Returns:
            The names saved, and one reason per rejected file.
        """
        saved, rejected = [], []
        for path in paths:
            path = Path(path)
            try:
                name = render.upload_name(path.name, path.stat().st_size)
            except render.UploadRejected as error:
                rejected.append(str(error))
                continue
            self.corpus_dir.mkdir(parents=True, exist_ok=True)
            partial = self.corpus_dir / f".{name}.upload"  # hidden: never read half-written
            shutil.copyfile(path, partial)
            os.replace(partial, self.corpus_dir / name)
            saved.append(name)
        return saved, rejected


def build_app(service: ChatService):
    """The Gradio Blocks app for `service`."""
    import gradio as gr

    def info():
        engine = service.current()
        return render.info_html(engine.info() if engine else None, service.error)

    def sources_choices():
        engine = service.current()
        return list(engine.info().sources) if engine else []

    def refresh():  # on each page load: builds made elsewhere show in the panel too
        return info(), gr.update(choices=sources_choices())

    def respond(question, history, k, sources, date_from, date_to):
        history = list(history or [])
        try:
            date_from, date_to = render.date_range(date_from, date_to)
            answer = service.ask(
                question, int(k), sources=sources or None, date_from=date_from, date_to=date_to
            )
        except (ValueError, IndexUnusable) as error:
            return history, question, render.notice_html(str(error))
        history += [
            {"role": "user", "content": render.text_html(answer.question.strip())},
            {"role": "assistant", "content": render.answer_html(answer, service.articles(answer))},
        ]
        return history, "", ""

    def upload(files):
        saved, rejected = service.save_uploads(list(files or []))
        lines = [f"Rejected {reason}" for reason in rejected]
        if saved:
            lines.insert(0, f"Added {', '.join(saved)}: rebuilding the index…")
        kind = "error" if rejected else "ok"
        return (render.notice_html("\n".join(lines), kind) if lines else "", bool(saved))

    def rebuild(progress=gr.Progress(track_tqdm=True)):
        progress(0, desc="Reading the corpus")
        try:
            report = service.rebuild(on_wait=lambda message: progress(0, desc=message))
        except IndexNotWritable as error:  # the loaded index still answers
            return info(), gr.update(), render.notice_html(str(error))
        except (FileNotFoundError, IndexUnusable, ValueError) as error:
            service.error = str(error)
            return info(), gr.update(), render.notice_html(str(error))
        return info(), gr.update(choices=sources_choices()), render.report_html(report)

    def rebuild_if(changed, progress=gr.Progress(track_tqdm=True)):
        if not changed:
            return gr.update(), gr.update(), gr.update()
        return rebuild(progress)

    def ask_api(question: str, k: int = 5) -> dict:
        """Answer a question from the corpus.

        Args:
            question: what to ask.
            k: how many passages (best first).

        Returns:
            The answer as `qa ask --json` prints it: question, text (the answer sentence),
            source, start, end, and passages with their sources and scores.
        """
        try:
            return service.ask(question, int(k)).to_dict()
        except (ValueError, IndexUnusable) as error:
            raise gr.Error(str(error)) from None

    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.HTML(
            f'<div class="qa-header"><h1>{TITLE}</h1><p>Every answer is a quote from the '
            "articles, with its source. Nothing leaves this machine.</p></div>"
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="Chat",
                    show_label=False,
                    elem_id="chat",
                    height=620,
                    autoscroll=False,  # render.SHOW_LATEST_JS shows the answer's start instead
                    render_markdown=False,  # messages are HTML we escaped ourselves
                    sanitize_html=True,
                    latex_delimiters=[],
                    feedback_options=None,
                    buttons=["copy_all"],
                    placeholder="Ask a question about the articles. The answer sentence comes "
                    "first, then the passages it comes from.",
                )
                notice = gr.HTML("", elem_id="notice")
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False,
                        placeholder="Ask a question…",
                        elem_id="question",
                        scale=5,
                        autofocus=True,
                    )
                    ask = gr.Button("Ask", variant="primary", elem_id="ask", scale=1)
                gr.Examples(list(EXAMPLES), inputs=question, label="Try")
            with gr.Column(scale=2):
                with gr.Accordion("Settings", open=True):
                    k = gr.Slider(1, 10, value=3, step=1, label="Passages", elem_id="k")
                    sources = gr.Dropdown(
                        choices=sources_choices(),
                        multiselect=True,
                        label="Only these files",
                        info="Empty: all files",
                        elem_id="sources",
                    )
                    with gr.Row():
                        date_from = gr.Textbox(label="From", placeholder="YYYY[-MM[-DD]]")
                        date_to = gr.Textbox(label="To", placeholder="YYYY[-MM[-DD]]")
                with gr.Accordion("Sources", open=True):
                    summary = gr.HTML(info(), elem_id="index-info")
                    files = gr.File(
                        label=f"Add articles ({', '.join(render.SUFFIXES)}, up to "
                        f"{render.MAX_UPLOAD_BYTES // 2**20} MB)",
                        file_count="multiple",
                        elem_id="upload",
                        height=110,
                    )
                    build = gr.Button("Rebuild index", elem_id="rebuild")
                    status = gr.HTML("", elem_id="build-status")
                    changed = gr.State(False)

        inputs = [question, chat, k, sources, date_from, date_to]
        outputs = [chat, question, notice]
        for event in (question.submit, ask.click):
            event(respond, inputs, outputs, api_visibility="private")
        chat.change(None, js=render.SHOW_LATEST_JS, api_visibility="private")
        files.upload(upload, files, [status, changed], api_visibility="private").then(
            rebuild_if,
            changed,
            [summary, sources, status],
            api_visibility="private",
            show_progress_on=status,
        )
        build.click(
            rebuild,
            None,
            [summary, sources, status],
            api_visibility="private",
            show_progress_on=status,
        )
        app.load(refresh, None, [summary, sources], api_visibility="private")
        gr.api(ask_api, api_name="ask")
    return app


def serve(corpus: str | Path, index: str | Path, host: str = "127.0.0.1", port: int = 7860):
    """Start the web chat and block; builds the index first when there is none."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read when gradio is imported
    import gradio as gr

    if current_generation(Path(index)) is None:
        print(f"No index in {index}/: building it from {corpus}/ first…", flush=True)
    service = ChatService(corpus, index)
    if service.error:
        print(f"qa: {service.error} (the page shows this too)", flush=True)
    app = build_app(service)
    # Soft's own file for Montserrat 400 is Montserrat Alternates in gradio 6.31 (a w like ɯ,
    # a barred z), which makes article text odd to read; IBM Plex Sans ships with gradio.
    # Its 600 file is a 99-glyph variable font that Chromium draws as a fallback sans, so
    # semibold text takes the 700 face.
    plex = gr.themes.LocalFont("IBM Plex Sans", weights=(400, 700))
    theme = gr.themes.Soft(primary_hue="indigo", font=(plex, "ui-sans-serif", "sans-serif"))
    app.queue(default_concurrency_limit=2).launch(
        server_name=host,
        server_port=port,
        share=False,
        show_error=False,
        max_file_size=4 * render.MAX_UPLOAD_BYTES,
        footer_links=["api"],
        theme=theme,
        css=render.CSS,
    )
