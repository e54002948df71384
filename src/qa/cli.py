"""The `qa` command: `qa index` builds, `qa ask` answers, `qa eval` scores, `qa serve` chats,
`qa api` answers over HTTP with replicas on a Ray cluster."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Sequence

from qa.results import Answer
from qa.threads import settle as settle_threads

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# What a shell reports for a command stopped by Ctrl-C (128 + SIGINT) and for a writer
# whose reader left (128 + SIGPIPE).
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    quiet_offline_environment()
    settle_threads()
    args = _parser().parse_args(argv)
    try:
        if args.device:
            from qa.embed import choose_device

            os.environ["QA_DEVICE"] = choose_device(args.device)  # every model load reads it
        return args.run(args)
    except ValueError as error:
        print(f"qa: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ImportError as error:  # an optional extra (Ray) that is not installed
        print(f"qa: {error}", file=sys.stderr)
        return EXIT_FAILED
    except (FileNotFoundError, RuntimeError) as error:  # IndexUnusable is a RuntimeError
        print(f"qa: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:  # Ctrl-C while loading, asking or building
        print("qa: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`qa ask ... | head`): stop quietly, as other tools do. The
        # rest of the output goes nowhere, so Python's flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _index(args: argparse.Namespace) -> int:
    from qa.settings import Settings

    settings = Settings(model=args.model) if args.model else None
    if args.watch:
        return _watch(args, settings)
    report = _build(args, settings, full=args.full)
    _summarise(report, args)
    return EXIT_FAILED if report.skipped else EXIT_OK


def _build(args: argparse.Namespace, settings, full: bool):
    from qa.index.build import build_index

    return build_index(
        args.corpus,
        args.index,
        settings,
        progress=True,
        full=full,
        max_bytes=int(args.max_size * 1_000_000),
        on_wait=lambda message: print(f"qa: {message}…", file=sys.stderr, flush=True),
        ray=args.ray,
    )


def _watch(args: argparse.Namespace, settings) -> int:
    """Poll the corpus and run an incremental build whenever a file changes, until Ctrl-C."""
    from qa.ingest.corpus import fingerprint

    max_bytes = int(args.max_size * 1_000_000)
    print(
        f"qa: watching {args.corpus}/ every {args.interval:g} s; Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    seen, full = None, args.full
    # A shell starts background jobs with SIGINT ignored, and Python keeps that; Ctrl-C (or
    # `kill -INT`) must stop the watch wherever it was started.
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler) if in_main else None
    try:
        while True:
            now = fingerprint(args.corpus, max_bytes)
            if now != seen:
                report = _build(args, settings, full=full)
                if seen is None or report.generation is not None or report.skipped:
                    _summarise(report, args)
                seen, full = now, False
            time.sleep(args.interval)
    except KeyboardInterrupt:
        print("qa: stopped watching", file=sys.stderr)
        return EXIT_OK
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)


def _summarise(report, args: argparse.Namespace) -> None:
    """What the build did: counts on stdout, each file's fate below; skips on stderr, and
    how many files the corpus holds of types that are not read.

    File names are shown quoted when they hold a line break or other unprintable characters,
    so each file keeps one line.
    """
    from pathlib import PurePosixPath

    from qa.ingest.corpus import SUFFIXES, other_files, shown

    print(report.headline(args.index), flush=True)
    print(f"  {report.counts}", flush=True)
    for what, name in report.files():
        print(f"  {what:8} {name}")
    for note in report.notes:
        print(f"note {shown(note.source)}: {note.reason}", file=sys.stderr)
    for skipped in report.skipped:
        print(f"skipped {shown(skipped.source)}: {skipped.reason}", file=sys.stderr)
    others = other_files(args.corpus)
    if others:
        suffixes = sorted({PurePosixPath(name).suffix.lower() for name in others})
        kinds = ", ".join(suffix or "no extension" for suffix in suffixes)
        files = (
            f"{len(others)} files of other types" if len(others) > 1 else "1 file of another type"
        )
        print(f"not read: {files} ({kinds}); qa reads {', '.join(SUFFIXES)}", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()


def _ask(args: argparse.Namespace) -> int:
    from qa.engine import Engine

    engine = Engine(
        args.corpus, args.index, build_if_missing=False, mode=args.mode, threshold=args.threshold
    )
    if args.files:
        indexed = set(engine.info().sources)
        unknown = [name for name in args.files if name not in indexed]
        if unknown:
            raise ValueError(
                f"no indexed file {unknown[0]!r}: --file takes a name as `qa index` lists it "
                "(its path inside the corpus folder)"
            )
    result = engine.answer(
        args.question,
        k=args.k,
        date_from=args.date_from,
        date_to=args.date_to,
        sources=args.files,
        history=args.after,
    )
    filtered = bool(args.files or args.date_from or args.date_to)
    print(result.to_json() if args.json else _render(result, filtered))
    return EXIT_OK


def _eval(args: argparse.Namespace) -> int:
    from qa.engine import Engine
    from qa.evaluate import evaluate, read_questions

    rows = read_questions(args.file)
    engine = Engine(args.corpus, args.index, build_if_missing=False, mode=args.mode)
    report = evaluate(engine, rows)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return EXIT_OK
    n = report.questions
    if n:
        print(f"{n} questions ({args.mode})")
        for name, value in [
            ("hit@1", report.hit_at_1),
            ("hit@3", report.hit_at_3),
            ("hit@5", report.hit_at_5),
            ("answer sentence", report.answer_sentence),
        ]:
            print(f"  {name:<16} {value:.3f}  ({round(value * n)}/{n})")
        print(f"  {'MRR@10':<16} {report.mrr:.3f}")
        if report.right_found is not None:
            right = round(report.hit_at_1 * n)
            kept = round(report.right_found * right)
            print(f"  {'right and found':<16} {report.right_found:.3f}  ({kept}/{right})")
        for miss in report.misses:
            print(f"  miss: {miss.question}  [top: {miss.top_passage[:80]}…]")
    if report.unanswerable:
        m = report.unanswerable
        print(f"{m} questions the articles should not answer (no answer given)")
        flagged = round(report.not_found * m)
        print(f"  {'not found':<16} {report.not_found:.3f}  ({flagged}/{m})")
        for found in report.answered:
            print(f"  answered: {found.question}  [top: {found.top_passage[:80]}…]")
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    from qa.web.app import serve  # gradio loads only for this command

    if threading.current_thread() is threading.main_thread():
        # Stop as on Ctrl-C, so the app's temporary files are removed on the way out.
        signal.signal(signal.SIGTERM, _interrupt)
    serve(args.corpus, args.index, host=args.host, port=args.port, api=args.api)
    return EXIT_OK


def _api(args: argparse.Namespace) -> int:
    """Serve `/ask` with N engine replicas on Ray until Ctrl-C."""
    from pathlib import Path

    from qa.cluster import require_ray

    require_ray(serve=True)  # before any build: say what to install first
    from qa.api import running_api
    from qa.index.generations import current_generation

    if current_generation(Path(args.index)) is None:
        print(f"No index in {args.index}/: building it from {args.corpus}/ first…", flush=True)
        _summarise(_build(args, None, full=False), args)
    with running_api(
        args.corpus,
        args.index,
        replicas=args.replicas,
        host=args.host,
        port=args.port,
        address=args.ray,
    ) as url:
        print(
            f"qa: answering on {url} with {args.replicas} replica"
            f"{'s' if args.replicas > 1 else ''}; Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        signal.signal(signal.SIGTERM, _interrupt)  # stop as on Ctrl-C, shutting Serve down
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("qa: stopping", file=sys.stderr, flush=True)
    return EXIT_OK


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _render(result: Answer, filtered: bool = False) -> str:
    from qa.search.confidence import describe

    if not result.passages and filtered:
        return "No passages: no indexed article matches --from, --to and --file."
    if not result.passages:
        return "No passages: the index is empty. Add articles to the corpus and run `qa index`."
    sentence = result.text
    if result.exact is not None and result.start is not None and result.exact_start is not None:
        # The answer words, marked as Markdown bold inside the quoted sentence.
        first, last = result.exact_start - result.start, result.exact_end - result.start
        sentence = f"{sentence[:first]}**{sentence[first:last]}**{sentence[last:]}"
    confidence = f"Confidence: {describe(result.confidence, result.found)}"
    if result.found:
        lines = [" ".join(sentence.split()), confidence, ""]
        if result.as_of:
            lines[0] += f"  (as of {result.as_of})"
    else:
        lines = [
            "Not found in these articles.",
            confidence,
            "",
            "The closest passages, which may not answer the question:",
            "",
        ]
    for rank, passage in enumerate(result.passages, 1):
        where = " · ".join(
            part
            for part in (
                passage.publisher,
                passage.date,
                passage.source,
                f"p. {passage.page}" if passage.page is not None else None,
                f"chars {passage.start}–{passage.end}",
            )
            if part
        )
        body = textwrap.fill(
            " ".join(passage.text.split()),
            width=96,
            initial_indent="    ",
            subsequent_indent="    ",
        )
        older = result.as_of and passage.date and passage.date < result.as_of
        label = f"  (older: {passage.date})" if older else ""
        lines += [f"[{rank}] {passage.title}{label}", f"    {where}", body]
        lines += [f"    also in: {s.source} ({s.date or 'undated'})" for s in passage.also_in]
        lines.append("")
    return "\n".join(lines).rstrip()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        command = commands.add_parser(name, help=help, description=help)
        command.add_argument(
            "--corpus",
            default=os.environ.get("QA_CORPUS", "corpus"),
            help="folder of articles (default: $QA_CORPUS or corpus/)",
        )
        command.add_argument(
            "--index",
            default=os.environ.get("QA_INDEX", "index"),
            help="index folder (default: $QA_INDEX or index/)",
        )
        command.add_argument(
            "--device",
            help="where the model runs: cpu, cuda, cuda:N or mps "
            "(default: $QA_DEVICE, else cuda when torch sees a GPU, else cpu)",
        )
        return command

    index = add("index", "build the index from the corpus")
    index.add_argument(
        "--model",
        help="sentence-transformers model name or folder "
        "(default: the index's, else all-MiniLM-L6-v2)",
    )
    index.add_argument(
        "--full", action="store_true", help="rebuild every document, not only changed ones"
    )
    index.add_argument(
        "--watch",
        action="store_true",
        help="keep running and update the index whenever the corpus changes (Ctrl-C stops)",
    )
    index.add_argument(
        "--interval",
        type=_positive,
        default=2.0,
        help="seconds between checks of the corpus with --watch (default: 2)",
    )
    index.add_argument(
        "--max-size",
        type=_positive,
        default=20.0,
        metavar="MB",
        help="skip files larger than this many megabytes (default: 20)",
    )
    index.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="embed on a Ray cluster (ADDRESS: auto, HOST:PORT or ray://HOST:10001; "
        "none starts a local Ray for the run); needs the ray extra",
    )
    index.set_defaults(run=_index)

    ask = add("ask", "answer a question from the index")
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=5, help="how many passages (default: 5)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument(
        "--threshold",
        type=_probability,
        help="confidence below which the answer is 'not found' (default: the measured one)",
    )
    ask.add_argument(
        "--from",
        dest="date_from",
        metavar="DATE",
        help="only articles dated on or after DATE (2024, 2024-11 or 2024-11-28)",
    )
    ask.add_argument(
        "--to",
        dest="date_to",
        metavar="DATE",
        help="only articles dated on or before DATE (a year or month counts whole)",
    )
    ask.add_argument(
        "--file",
        dest="files",
        action="append",
        metavar="NAME",
        help="only this file of the corpus, as `qa index` lists it (repeat for more)",
    )
    ask.add_argument(
        "--after",
        action="append",
        metavar="QUESTION",
        help="an earlier question this one follows up, e.g. --after 'Who chaired the 2020 "
        "session?' for 'What did he say?' (repeat for more, oldest first)",
    )
    _add_mode(ask)
    ask.set_defaults(run=_ask)

    evaluate = add("eval", "score retrieval on a JSON-lines file of questions and answers")
    evaluate.add_argument(
        "file",
        help='lines of {"q": question, "a": [answer strings]}; "a": [] for a question the '
        "articles should not answer",
    )
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    _add_mode(evaluate)
    evaluate.set_defaults(run=_eval)

    serve = add("serve", "start the web chat (builds the index first when there is none)")
    serve.add_argument(
        "--host",
        default=os.environ.get("QA_HOST", "127.0.0.1"),
        help="address to listen on (default: $QA_HOST or 127.0.0.1)",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=os.environ.get("QA_PORT", "7860"),  # a string: argparse checks it as --port
        help="port (default: $QA_PORT or 7860)",
    )
    serve.add_argument(
        "--api",
        default=os.environ.get("QA_API") or None,
        metavar="URL",
        help="answer through a `qa api` endpoint, e.g. http://127.0.0.1:8000/ask "
        "(default: $QA_API, else in this process)",
    )
    serve.set_defaults(run=_serve)

    api = add("api", "answer over HTTP (POST /ask) with engine replicas on a Ray cluster")
    api.add_argument(
        "--replicas", type=_whole, default=1, help="how many engines answer (default: 1)"
    )
    api.add_argument(
        "--host",
        default=os.environ.get("QA_HOST", "127.0.0.1"),
        help="address to listen on (default: $QA_HOST or 127.0.0.1)",
    )
    api.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    api.add_argument(
        "--ray",
        default=None,
        metavar="ADDRESS",
        help="the Ray cluster (auto, HOST:PORT or ray://HOST:10001; default: a local Ray "
        "started for the run); needs the ray extra",
    )
    api.set_defaults(run=_api, max_size=20.0)
    return parser


def _number(convert, accept, wanted: str):
    """An argparse type: `convert` the text, and refuse it (saying `wanted`) unless it
    converts and `accept` holds for the value."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
        return value

    return parse


_positive = _number(float, lambda value: value > 0, "a number above 0")
_probability = _number(float, lambda value: 0 <= value <= 1, "a number from 0 to 1")
_whole = _number(int, lambda value: value >= 1, "a whole number of at least 1")


def _add_mode(command: argparse.ArgumentParser) -> None:
    from qa.search.query import Mode

    command.add_argument(
        "--mode",
        default=Mode.HYBRID.value,
        choices=[mode.value for mode in Mode],
        help="which retrievers take part (default: hybrid)",
    )


def quiet_offline_environment() -> None:
    """Never reach for a model hub, and keep library chatter off the terminal."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


if __name__ == "__main__":
    sys.exit(main())
