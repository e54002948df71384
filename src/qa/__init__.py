"""Offline extractive question answering over a folder of articles."""

from qa.engine import BuildReport, Engine, IndexInfo, answer
from qa.results import Answer, Passage
from qa.settings import Settings
from qa.store import IndexUnusable

__all__ = [
    "Answer",
    "BuildReport",
    "Engine",
    "IndexInfo",
    "IndexUnusable",
    "Passage",
    "Settings",
    "answer",
]
