"""The `qa` command: `qa index` builds the index, `qa ask` answers a question."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time
from collections.abc import Sequence

from qa.results import Answer

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
_LISTED = 20  # file names listed per kind of change


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    _quiet_offline_environment()
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except ValueError as error:
        print(f"qa: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (FileNotFoundError, RuntimeError) as error:  # IndexUnusable is a RuntimeError
        print(f"qa: {error}", file=sys.stderr)
        return EXIT_FAILED


def _index(args: argparse.Namespace) -> int:
    from qa.settings import Settings

    settings = Settings(model=args.model) if args.model else None
    if args.watch:
        return _watch(args, settings)
    report = _build(args, settings, full=args.full)
    _summarise(report, args.index)
    return EXIT_FAILED if report.skipped else EXIT_OK


def _build(args: argparse.Namespace, settings, full: bool):
    from qa.engine import build_index

    return build_index(
        args.corpus,
        args.index,
        settings,
        progress=True,
        full=full,
        max_bytes=int(args.max_size * 1_000_000),
        on_wait=lambda message: print(f"qa: {message}…", file=sys.stderr, flush=True),
    )


def _watch(args: argparse.Namespace, settings) -> int:
    """Poll the corpus and run an incremental build whenever a file changes, until Ctrl-C."""
    from qa.corpus import fingerprint

    max_bytes = int(args.max_size * 1_000_000)
    print(
        f"qa: watching {args.corpus}/ every {args.interval:g} s; Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    seen, full = None, args.full
    try:
        while True:
            now = fingerprint(args.corpus, max_bytes)
            if now != seen:
                report = _build(args, settings, full=full)
                if seen is None or report.generation is not None or report.skipped:
                    _summarise(report, args.index)
                seen, full = now, False
            time.sleep(args.interval)
    except KeyboardInterrupt:
        print("qa: stopped watching", file=sys.stderr)
        return EXIT_OK


def _summarise(report, index: str) -> None:
    """What the build did: counts on stdout, each file's fate below; skips on stderr."""
    state = (
        f"rebuilt fully: {report.full_reason}"
        if report.full_reason
        else "updated"
        if report.generation
        else "no changes"
    )
    print(
        f"Indexed {report.documents} documents, {report.passages} passages in "
        f"{report.seconds:.1f} s → {index}/ ({state})",
        flush=True,
    )
    print(
        f"  added {len(report.added)} · changed {len(report.changed)} · removed "
        f"{len(report.removed)} · unchanged {len(report.unchanged)} · skipped "
        f"{len(report.skipped)} · embedded {report.embedded} passages",
        flush=True,
    )
    for what in ("added", "changed", "removed"):
        names = getattr(report, what)
        for name in names[:_LISTED]:
            print(f"  {what:8} {name}")
        if len(names) > _LISTED:
            print(f"  {what:8} … and {len(names) - _LISTED} more")
    for name in report.cleaned:
        print(f"  cleaned  {name} (left by a build that did not finish)")
    for note in report.notes:
        print(f"note {note.source}: {note.reason}", file=sys.stderr)
    for skipped in report.skipped:
        print(f"skipped {skipped.source}: {skipped.reason}", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()


def _ask(args: argparse.Namespace) -> int:
    from qa.engine import Engine

    engine = Engine(args.corpus, args.index, build_if_missing=False)
    result = engine.answer(args.question, k=args.k)
    print(result.to_json() if args.json else _render(result))
    return EXIT_OK


def _render(result: Answer) -> str:
    if not result.passages:
        return "No passages: the index is empty. Add articles to the corpus and run `qa index`."
    lines = [result.text, ""]
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
        lines += [f"[{rank}] {passage.score:.3f}  {passage.title}", f"    {where}", body, ""]
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
    index.set_defaults(run=_index)

    ask = add("ask", "answer a question from the index")
    ask.add_argument("question")
    ask.add_argument("-k", type=int, default=5, help="how many passages (default: 5)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.set_defaults(run=_ask)
    return parser


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text!r}")
    return value


def _quiet_offline_environment() -> None:
    """Never reach for a model hub, and keep library chatter off the terminal."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


if __name__ == "__main__":
    sys.exit(main())
