"""The Gradio web chat over one corpus and its index (`qa serve`, `python app.py`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from qa.index.generations import IndexNotWritable, current_generation
from qa.index.manifest import IndexUnusable
from qa.ingest.corpus import shown
from qa.web import assets, render
from qa.web.export import conversation_markdown
from qa.web.service import TRASH, ChatService

TITLE = "qa · ask the articles"
# Questions about the shipped articles; the page offers those the loaded folder answers.
EXAMPLES = (
    "Who is the Secretary-General of the CSTO?",
    "When was the Collective Security Treaty signed?",
    "What is the primary goal of the CSTO?",
)


def build_app(service: ChatService):
    """The Gradio Blocks app for `service`."""
    import gradio as gr

    exports = tempfile.TemporaryDirectory(prefix="qa-exports-")  # removed when the app ends

    def info():
        engine = service.current()
        return render.info_html(engine.info() if engine else None, service.error)

    def sources_choices():
        engine = service.current()
        return list(engine.info().sources) if engine else []

    def panels():
        """Everything that shows the index: summary, file filter, documents, their picker."""
        rows = service.documents()
        choices = [(f"{row.title} ({row.source})", row.source) for row in rows]
        return (
            info(),
            gr.update(choices=sources_choices()),
            render.documents_html(rows, service.skipped()),
            gr.update(choices=choices, value=None),
        )

    def respond(question, history, answers, k, sources, date_from, date_to):
        history, answers = list(history or []), list(answers or [])
        try:
            date_from, date_to = render.date_range(date_from, date_to)
            answer = service.ask(
                question,
                int(k),
                sources=sources or None,
                date_from=date_from,
                date_to=date_to,
                history=[earlier.question for earlier in answers],  # follow-ups lean on it
            )
        except (ValueError, IndexUnusable) as error:
            return history, question, render.notice_html(str(error)), answers, gr.update()
        history += [
            {"role": "user", "content": render.text_html(answer.question.strip())},
            {"role": "assistant", "content": render.answer_html(answer, service.articles(answer))},
        ]
        answers.append(answer)
        return history, "", "", answers, _export_file(answers, exports.name)

    def upload(files):
        outcomes = service.save_uploads(list(files or []))
        saved = [o.name for o in outcomes if o.reason is None]
        rejected = [o.reason for o in outcomes if o.reason is not None]
        lines = [f"Rejected {reason}" for reason in rejected]
        if saved:
            lines.insert(0, f"Added {', '.join(saved)}: rebuilding the index…")
        message = render.notice_html("\n".join(lines), "error" if rejected else "ok")
        # The widget is emptied: the next upload holds only its own files.
        return None, message if lines else "", (bool(saved), rejected)

    def rebuild(rejected=(), progress=gr.Progress(track_tqdm=True)):
        progress(0, desc="Reading the corpus")
        try:
            report = service.rebuild(on_wait=lambda message: progress(0, desc=message))
        except (FileNotFoundError, IndexUnusable, ValueError, IndexNotWritable) as error:
            if not isinstance(error, IndexNotWritable):  # that one leaves the index answering
                service.error = str(error)
            lines = [f"Rejected {reason}" for reason in rejected] + [str(error)]
            return *panels(), render.notice_html("\n".join(lines))
        return *panels(), render.report_html(report, rejected)

    def rebuild_after_upload(pending, progress=gr.Progress(track_tqdm=True)):
        saved, rejected = pending
        if not saved:  # nothing new to index: the rejections stay as they are
            return *(gr.update(),) * 4, render.report_html(None, rejected)
        return rebuild(rejected, progress)

    def open_document(source):
        document = service.document(source) if source else None
        if document is None:
            return render.notice_html("Choose an indexed article first.")
        return render.document_html(document)

    def ask_delete(source):
        if not source:
            return gr.update(visible=False), render.notice_html("Choose an article first.")
        question = (
            f"Move {source} to {service.corpus_dir.name}/{TRASH}/ and remove it from the index?"
        )
        return gr.update(visible=True), render.notice_html(question, "ask")

    def delete(source, progress=gr.Progress(track_tqdm=True)):
        try:
            moved = service.delete(source)
        except ValueError as error:
            return gr.update(visible=False), *(gr.update(),) * 4, render.notice_html(str(error)), ""
        *views, status = rebuild((), progress)
        where = moved.relative_to(service.corpus_dir.parent).as_posix()
        done = render.notice_html(f"Moved {source} to {where}.", "ok")
        return gr.update(visible=False), *views, done + status, ""

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

    # Gradio keeps a copy of every file it serves (each answer's export): removed an hour
    # after it was made, and all of them when the server stops.
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        gr.HTML(
            f'<div class="qa-header"><h1>{TITLE}</h1><p>Every answer is a quote from the '
            "articles, with its source. Nothing leaves this machine. Press / to type a "
            "question, Esc to clear it.</p></div>"
        )
        answers = gr.State([])
        with gr.Tabs():
            with gr.Tab("Chat", id="chat-tab"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        chat = gr.Chatbot(
                            label="Chat",
                            show_label=False,
                            elem_id="chat",
                            height=620,
                            autoscroll=False,  # assets.SHOW_LATEST_JS shows the answer's start
                            render_markdown=False,  # messages are HTML we escaped ourselves
                            sanitize_html=True,
                            latex_delimiters=[],
                            feedback_options=None,
                            buttons=["copy_all"],
                            placeholder="Ask a question about the articles. The answer "
                            "sentence comes first, then the passages it comes from.",
                        )
                        notice = gr.HTML("", elem_id="notice")
                        with gr.Row():
                            question = gr.Textbox(
                                show_label=False,
                                placeholder="Ask a question…",
                                elem_id="question",
                                scale=5,
                            )  # no autofocus: on a phone it scrolls the page past the chat
                            ask = gr.Button("Ask", variant="primary", elem_id="ask", scale=1)
                        offered = service.answerable(EXAMPLES)
                        with gr.Row(elem_classes="qa-examples", visible=bool(offered)):
                            examples = [
                                gr.Button(text, size="sm", variant="secondary") for text in offered
                            ]
                        export = gr.DownloadButton(
                            "Export conversation (Markdown)",
                            value=None,
                            size="sm",
                            elem_id="export",
                        )
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
                            )
                            build = gr.Button("Rebuild index", elem_id="rebuild")
                            status = gr.HTML("", elem_id="build-status")
                            pending = gr.State((False, []))
            with gr.Tab("Documents", id="documents-tab", elem_id="documents-tab"):
                documents = gr.HTML("", elem_id="documents")
                with gr.Row(equal_height=False):
                    chosen = gr.Dropdown(choices=[], label="Article", elem_id="doc-choice", scale=4)
                    show = gr.Button("Open", elem_id="doc-open", scale=1)
                    remove = gr.Button("Delete…", variant="stop", elem_id="doc-delete", scale=1)
                with gr.Row(visible=False) as confirm_row:
                    confirm = gr.Button("Yes, delete", variant="stop", elem_id="doc-confirm")
                    cancel = gr.Button("Cancel", elem_id="doc-cancel")
                docs_status = gr.HTML("", elem_id="docs-status")
                viewer = gr.HTML("", elem_id="doc-view")

        index_views = [summary, sources, documents, chosen]
        inputs = [question, chat, answers, k, sources, date_from, date_to]
        outputs = [chat, question, notice, answers, export]
        for event in (question.submit, ask.click):
            event(respond, inputs, outputs, api_visibility="private")
        for button, text in zip(examples, offered):
            button.click(lambda text=text: text, None, question, api_visibility="private").then(
                respond, inputs, outputs, api_visibility="private"
            )
        chat.change(None, js=assets.SHOW_LATEST_JS, api_visibility="private")
        files.upload(upload, files, [files, status, pending], api_visibility="private").then(
            rebuild_after_upload,
            pending,
            [*index_views, status],
            api_visibility="private",
            show_progress_on=status,
        )
        build.click(
            rebuild, None, [*index_views, status], api_visibility="private", show_progress_on=status
        )
        show.click(open_document, chosen, viewer, api_visibility="private")
        remove.click(ask_delete, chosen, [confirm_row, docs_status], api_visibility="private")
        cancel.click(
            lambda: (gr.update(visible=False), ""),
            None,
            [confirm_row, docs_status],
            api_visibility="private",
        )
        confirm.click(
            delete,
            chosen,
            [confirm_row, *index_views, docs_status, viewer],
            api_visibility="private",
            show_progress_on=docs_status,
        )
        app.load(panels, None, index_views, api_visibility="private")
        gr.api(ask_api, api_name="ask")
    return app


def _export_file(answers, folder: str) -> str:
    """The conversation as Markdown in a new file under `folder`, for the download."""
    path = Path(tempfile.mkdtemp(dir=folder)) / "qa-conversation.md"
    path.write_text(conversation_markdown(answers), encoding="utf-8", errors="replace")
    return str(path)


def serve(
    corpus: str | Path,
    index: str | Path,
    host: str = "127.0.0.1",
    port: int = 7860,
    api: str | None = None,
):
    """Start the web chat and block; builds the index first when there is none. With `api`
    (a `qa api` endpoint's URL), questions are answered there."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read when gradio is imported
    import gradio as gr

    if current_generation(Path(index)) is None:
        print(f"No index in {index}/: building it from {corpus}/ first…", flush=True)
    service = ChatService(corpus, index, api=api)
    if service.last_report is not None:  # built just now: say what, as `qa index` does
        report = service.last_report
        print(report.headline(str(index)), flush=True)
        print(f"  {report.counts}", flush=True)
        for skipped in report.skipped:
            print(f"skipped {shown(skipped.source)}: {skipped.reason}", flush=True)
    if service.error:
        print(f"qa: {service.error} (the page shows this too)", flush=True)
    app = build_app(service)
    # Soft's own file for Montserrat 400 is Montserrat Alternates in gradio 6.31 (a w like ɯ,
    # a barred z), which makes article text odd to read; IBM Plex Sans ships with gradio.
    # Its 600 file is a 99-glyph variable font that Chromium draws as a fallback sans, so
    # semibold text takes the 700 face.
    plex = gr.themes.LocalFont("IBM Plex Sans", weights=(400, 700))
    theme = gr.themes.Soft(primary_hue="indigo", font=(plex, "ui-sans-serif", "sans-serif"))
    try:
        app.queue(default_concurrency_limit=2).launch(
            server_name=host,
            server_port=port,
            share=False,
            quiet=True,  # gradio's own lines suggest share=True, which this app never uses
            prevent_thread_lock=True,
            show_error=False,
            max_file_size=4 * render.MAX_UPLOAD_BYTES,
            footer_links=["api"],
            theme=theme,
            css=assets.CSS,
            head=f"<script>{assets.PAGE_JS}</script>",
        )
    except OSError as error:  # the port is taken: one line, no trace
        raise RuntimeError(
            f"cannot serve on {host}:{port} ({error.strerror or 'in use'}); choose another "
            "port with --port or QA_PORT"
        ) from None
    print(f"qa: the chat is on {app.local_url} (Ctrl-C stops it)", flush=True)
    app.block_thread()
