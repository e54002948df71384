"""Offline extractive question answering over a folder of articles."""

from qa.engine import Engine, IndexInfo, answer
from qa.index.build import BuildReport
from qa.index.generations import IndexNotWritable
from qa.index.manifest import IndexUnusable
from qa.results import Answer, Passage
from qa.settings import Settings

__all__ = [
    "Answer",
    "BuildReport",
    "Engine",
    "IndexInfo",
    "IndexNotWritable",
    "IndexNotWritable",
    "IndexUnusable",
    "Passage",
    "Settings",
    "answer",
]
