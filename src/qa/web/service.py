"""The web chat's state: one engine over a corpus and its index, uploads, deletes, rebuilds."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa.engine import Engine
from qa.index.build import BuildReport, build_index
from qa.index.generations import current_generation
from qa.index.manifest import IndexUnusable
from qa.ingest.corpus import NOT_READ, Document, Skipped, other_files, scan
from qa.results import Answer
from qa.settings import DEFAULT_MODEL
from qa.web.render import UploadRejected, upload_name

TRASH = ".trash"  # hidden: the scan never reads it, so a deleted article stays out


@dataclass(frozen=True)
class DocumentRow:
    """One indexed article as the Documents view lists it."""

    source: str
    title: str
    publisher: str | None
    date: str | None
    passages: int


@dataclass(frozen=True)
class UploadOutcome:
    """What happened to one uploaded file: saved under `name`, or refused with `reason`."""

    name: str
    reason: str | None = None


class ChatService:
    """The app's state: an engine over a corpus and index, swapped safely on rebuilds.

    Args:
        corpus: the folder of articles (uploads are saved here).
        index: the index folder.
        build_if_missing: build the index at start when there is none.
        api: the URL of a `qa api` endpoint (`http://HOST:PORT/ask`) that answers the
            questions, with engine replicas on a Ray cluster over the same index; None
            answers in this process. Documents, uploads and rebuilds stay local either way.
    """

    def __init__(
        self,
        corpus: str | Path,
        index: str | Path,
        build_if_missing: bool = True,
        api: str | None = None,
    ):
        self.corpus_dir = Path(corpus)
        self.index_dir = Path(index)
        self.api = api
        self._build_lock = threading.Lock()
        self.engine: Engine | None = None
        self.error: str | None = None
        self.last_report: BuildReport | None = None  # the last build this process ran
        self._failed_at: str | None = None  # the live generation when loading last failed
        self._open(build_if_missing)

    def _open(self, build_if_missing: bool = False) -> None:
        """Load the engine, or keep why it cannot be loaded in `error`."""
        self._failed_at = current_generation(self.index_dir)
        try:
            if build_if_missing and self._failed_at is None:
                self.last_report = build_index(self.corpus_dir, self.index_dir, progress=True)
            self.engine = Engine(
                self.corpus_dir, self.index_dir, build_if_missing=False, progress=True
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

    def ask(self, question: str, k: int = 5, **options) -> Answer:
        """Answer `question` (filters and the conversation's `history` as for
        `Engine.answer`).

        Raises:
            ValueError: an empty question, a bad `k` or date.
            IndexUnusable: there is no usable index (the message says how to get one).
        """
        if not isinstance(question, str) or not question.strip():
            raise ValueError("The question is empty: type a question first.")
        if self.api:
            return _ask_api(self.api, question, k, options)
        engine = self.current()
        if engine is None:
            raise IndexUnusable(self.error or "no index is loaded")
        return engine.answer(question, k, **options)

    def answerable(self, questions: Sequence[str]) -> list[str]:
        """Those of `questions` that the loaded articles answer (`Answer.found`): the example
        questions worth offering for this folder; none while no index is loaded."""
        engine = self.current()
        if engine is None:
            return []
        return [question for question in questions if engine.answer(question, k=1).found]

    def articles(self, answer: Answer) -> dict[str, str]:
        """The text of each article `answer` quotes, for the whole-article view."""
        texts = {}
        for passage in answer.passages:
            document = self.document(passage.source)
            if document is not None:
                texts[passage.source] = document.text
        return texts

    def document(self, source: str) -> Document | None:
        """The indexed article read from `source`, or None (not indexed, or no index)."""
        engine = self.current()
        try:
            return engine.document(source) if engine else None
        except KeyError:  # rebuilt without it meanwhile
            return None

    def documents(self) -> list[DocumentRow]:
        """Every indexed article with its passage count, in corpus order."""
        engine = self.current()
        if engine is None:
            return []
        index = engine.index  # one generation for the documents and the counts
        counts = [0] * len(index.documents)
        for passage in index.passages:
            counts[passage.doc] += 1
        return [
            DocumentRow(d.source, d.title, d.publisher, d.date, n)
            for d, n in zip(index.documents, counts)
        ]

    def skipped(self) -> list[Skipped]:
        """Corpus files that are not in the index, each with the reason: files of types
        that are not read, and files a build skipped.

        The last build run here knows why it skipped a file; without one (the index was
        built elsewhere) a file the scan accepts but the index lacks is named as such.
        """
        try:
            others = [Skipped(name, NOT_READ) for name in other_files(self.corpus_dir)]
            if self.last_report is not None:
                return sorted([*self.last_report.skipped, *others], key=lambda s: s.source)
            found, refused = scan(self.corpus_dir)
        except FileNotFoundError:
            return []
        engine = self.current()
        indexed = set(engine.info().sources) if engine else set()
        missing = [
            Skipped(f.source, "not in the index yet: Rebuild index reads it")
            for f in found
            if f.source not in indexed
        ]
        return sorted(refused + missing + others, key=lambda s: s.source)

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
            self.last_report = report
            return report

    def save_uploads(self, paths: Sequence[str]) -> list[UploadOutcome]:
        """Copy uploaded files into the corpus folder; one outcome per file, in order."""
        outcomes = []
        for path in map(Path, paths):
            try:
                name = upload_name(path.name, path.stat().st_size)
            except UploadRejected as error:
                outcomes.append(UploadOutcome(path.name, str(error)))
                continue
            self.corpus_dir.mkdir(parents=True, exist_ok=True)
            partial = self.corpus_dir / f".{name}.upload"  # hidden: never read half-written
            shutil.copyfile(path, partial)
            os.replace(partial, self.corpus_dir / name)
            outcomes.append(UploadOutcome(name))
        return outcomes

    def delete(self, source: str) -> Path:
        """Move an indexed article into the corpus folder's hidden `.trash/`, keeping its
        relative path (a number is added when the trash holds that name already).

        Returns:
            Where the file now is. Run `rebuild` to drop it from the index.

        Raises:
            ValueError: `source` is not an indexed article, or its file is gone already.
        """
        engine = self.current()
        if engine is None or source not in engine.info().sources:
            raise ValueError(f"{source} is not an indexed article: choose one from the list.")
        path = self.corpus_dir / source
        if not path.is_file():
            raise ValueError(f"{source} is no longer in the corpus folder: rebuild the index.")
        first = target = self.corpus_dir / TRASH / source
        copies = 0
        while target.exists():  # an earlier copy of the same name stays
            copies += 1
            target = first.with_name(f"{first.stem}.{copies}{first.suffix}")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        return target


def _ask_api(url: str, question: str, k: int, options: dict) -> Answer:
    """Ask a `qa api` endpoint; its errors come back as the engine's would.

    Raises:
        ValueError: the endpoint refused the question (its reason).
        IndexUnusable: the endpoint has no usable index, or cannot be reached.
    """
    import json
    import urllib.error
    import urllib.request

    body = {"question": question, "k": k, **options}
    if body.get("sources") is not None:  # any collection of file names; JSON wants a list
        body["sources"] = list(body["sources"])
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return Answer.from_dict(json.load(reply))
    except urllib.error.HTTPError as error:
        reason = json.load(error).get("error", str(error))
        raise (ValueError if error.code == 400 else IndexUnusable)(reason) from None
    except (urllib.error.URLError, OSError) as error:
        raise IndexUnusable(f"the answering service at {url} cannot be reached ({error})") from None
