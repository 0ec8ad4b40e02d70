"""Fixtures shared by the nlp tests."""

from __future__ import annotations

import pytest

from nlp.classifier import KeywordClassifier
from tests.nlp.support import shared_classifier


@pytest.fixture(scope="session")
def classifier() -> KeywordClassifier:
    """The default classifier (built once per test session)."""
    return shared_classifier()
