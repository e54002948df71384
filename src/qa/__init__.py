"""Offline extractive question answering over a folder of articles."""

from qa.engine import BuildReport, Engine, answer
from qa.results import Answer, Passage
from qa.settings import Settings
from qa.store import IndexUnusable

__all__ = ["Answer", "BuildReport", "Engine", "IndexUnusable", "Passage", "Settings", "answer"]
