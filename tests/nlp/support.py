"""One shared KeywordClassifier for the nlp tests (its start-up takes a few tenths of a second)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from nlp.classifier import KeywordClassifier

DATA = Path(__file__).resolve().parent.parent / "data"
DEV_CORPUS = DATA / "dev_corpus.tsv"


@cache
def shared_classifier() -> KeywordClassifier:
    """The default classifier, built once per test session."""
    return KeywordClassifier()
