"""Offline extractive question answering over a folder of articles.

The names below load on first use (`from qa import Engine` imports the engine then), so that
`import qa` alone, as the `qa` command does before it reads its arguments, loads none of the
model's libraries: a Ctrl-C while they load is then the command's to report in one line.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

# Each public name and the module it lives in.
_EXPORTS = {
    "Answer": "qa.results",
    "BuildReport": "qa.index.build",
    "Engine": "qa.engine",
    "IndexInfo": "qa.engine",
    "IndexNotWritable": "qa.index.generations",
    "IndexUnusable": "qa.index.manifest",
    "Passage": "qa.results",
    "Settings": "qa.settings",
    "answer": "qa.engine",
}

__all__ = [
    "Answer",
    "BuildReport",
    "Engine",
    "IndexInfo",
    "IndexNotWritable",
    "IndexUnusable",
    "Passage",
    "Settings",
    "answer",
]


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # what type checkers and editors see
    from qa.engine import Engine, IndexInfo, answer
    from qa.index.build import BuildReport
    from qa.index.generations import IndexNotWritable
    from qa.index.manifest import IndexUnusable
    from qa.results import Answer, Passage
    from qa.settings import Settings
