"""A generation's manifest: what built it and from which files, and whether it still fits."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from qa.settings import Settings, same_model

FORMAT_VERSION = 4  # 3: content word pieces as sign codes; 4: sentence vectors pooled
_VERSIONED = ("qa", "sentence-transformers", "transformers", "torch", "faiss-cpu", "numpy")
_REBUILD = "run `qa index --full` to rebuild it"


class IndexUnusable(RuntimeError):
    """The index cannot serve questions: missing, broken, or built differently."""


@dataclass(frozen=True)
class DocumentEntry:
    """One indexed file: the SHA-256 of its bytes and how many passages it gave."""

    sha256: str
    passages: int


@dataclass(frozen=True)
class Manifest:
    """What a generation holds and how it was made; stored as `manifest.json`.

    Attributes:
        model: the embedding model's name or folder.
        dimension: the length of every stored vector.
        settings: the chunking and model settings of the build.
        documents: each indexed file (relative to the corpus folder), in index order.
        built_at: when the build finished (ISO, UTC).
        build_seconds: how long it took.
        format_version: the layout of the generation's files (`FORMAT_VERSION`).
        passage_count, sentence_count: rows of the per-passage and per-sentence arrays.
        passage_chars: the median passage length in characters, which the confidence
            reads as the corpus's kind (None in a generation written before it was kept).
        versions: the packages that made it, for a reader who wonders why answers moved.
    """

    model: str
    dimension: int
    settings: Settings
    documents: dict[str, DocumentEntry] = field(default_factory=dict)
    built_at: str | None = None
    build_seconds: float | None = None
    format_version: int = FORMAT_VERSION
    passage_count: int = 0
    sentence_count: int = 0
    passage_chars: int | None = None
    versions: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Manifest:
        """The manifest in `data`.

        Raises:
            ValueError: a field is missing or malformed.
        """
        try:
            return cls(
                **{
                    **data,
                    "settings": Settings(**data["settings"]),
                    "documents": {
                        source: DocumentEntry(**entry)
                        for source, entry in data.get("documents", {}).items()
                    },
                }
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"manifest.json is malformed ({error})") from None

    @classmethod
    def read(cls, generation: Path, index_dir: Path) -> Manifest:
        """Read a generation's manifest, refusing a format this code does not read.

        Raises:
            IndexUnusable: written by another format version.
            OSError, ValueError: missing, not JSON, or malformed.
        """
        data = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
            found = data.get("format_version") if isinstance(data, dict) else None
            raise IndexUnusable(
                f"the index in {index_dir}/ has format {found}, this qa reads format "
                f"{FORMAT_VERSION}: {_REBUILD}"
            )
        return cls.from_dict(data)

    def write(self, generation: Path) -> None:
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        (generation / "manifest.json").write_text(text, encoding="utf-8")

    def stamped(self, passages: int, sentences: int, passage_chars: int) -> Manifest:
        """This manifest with the row counts, median passage length, format and package
        versions of a new generation."""
        return Manifest(
            **{
                **self.__dict__,
                "format_version": FORMAT_VERSION,
                "passage_count": passages,
                "sentence_count": sentences,
                "passage_chars": passage_chars,
                "versions": _versions(),
            }
        )

    def check(
        self, index_dir: Path, *, model: str | None = None, dimension: int | None = None
    ) -> None:
        """Refuse to answer from this generation with `model`, or with `dimension`-long
        vectors, when it was built otherwise; the message names the command that fixes it.

        Raises:
            IndexUnusable: another model or another dimension.
        """
        if model is not None and not same_model(model, self.model):
            raise IndexUnusable(
                f"the index in {index_dir}/ was built with the model {self.model!r}, but "
                f"{model!r} is configured: run `qa index --full --model {model}` to rebuild it"
            )
        if dimension is not None and dimension != self.dimension:
            raise IndexUnusable(
                f"the model {self.model!r} makes {dimension}-dimensional vectors but the "
                f"index in {index_dir}/ holds {self.dimension}: run `qa index --full`"
            )

    def difference(self, settings: Settings) -> str | None:
        """Why a build with `settings` cannot reuse this generation's rows, or None."""
        if not same_model(self.settings.model, settings.model):
            return f"the model changed from {self.settings.model!r} to {settings.model!r}"
        if Settings(**{**self.settings.to_dict(), "model": settings.model}) != settings:
            return "the chunking settings changed"
        return None


def _versions() -> dict[str, str]:
    versions = {}
    for package in _VERSIONED:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions
