"""Offline extractive question answering over a folder of articles."""

from qa.build import BuildReport
from qa.engine import Engine, IndexInfo, answer
from qa.results import Answer, Passage
from qa.settings import Settings
from qa.store import IndexNotWritable, IndexUnusable

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
