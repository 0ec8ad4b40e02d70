"""Figures on the development corpus stay above a floor, and Traditional text changes nothing."""

from __future__ import annotations

import opencc
import pytest

from nlp.classifier import KeywordClassifier
from nlp.evaluation import EvaluationReport, evaluate, read_labelled
from tests.nlp.support import DEV_CORPUS


@pytest.fixture(scope="module")
def report(classifier: KeywordClassifier) -> EvaluationReport:
    """The evaluation of the whole development corpus."""
    return evaluate(classifier, read_labelled(DEV_CORPUS), threshold=classifier.threshold)


def test_dev_corpus_is_big_varied_and_mostly_chat() -> None:
    messages = read_labelled(DEV_CORPUS)
    labels = {message.label for message in messages}
    assert len(messages) >= 450
    assert sum(message.label == "none" for message in messages) >= len(messages) / 3
    assert labels == {
        "safety", "care", "repair", "dispute", "parking", "sanitation", "property", "consult", "suggestion", "other", "none"
    }  # fmt: skip
    assert sum(bool(message.urgent) for message in messages) >= 30


def test_request_precision_and_recall_stay_above_the_floor(report: EvaluationReport) -> None:
    assert report.request_precision >= 0.93
    assert report.request_recall >= 0.93


def test_category_accuracy_on_requests_stays_above_the_floor(report: EvaluationReport) -> None:
    assert report.category_accuracy >= 0.88


def test_every_emergency_is_flagged(report: EvaluationReport) -> None:
    assert report.urgent_recall is not None and report.urgent_recall >= 0.95
    assert report.urgent_precision is not None and report.urgent_precision >= 0.9


@pytest.mark.parametrize("config", ["s2t", "s2tw", "s2hk"])
def test_traditional_forms_of_the_whole_corpus_classify_as_the_simplified(
    classifier: KeywordClassifier, config: str
) -> None:
    to_traditional = opencc.OpenCC(config)
    for message in read_labelled(DEV_CORPUS):
        simplified = classifier.classify(message.text)
        traditional = classifier.classify(to_traditional.convert(message.text))
        assert (traditional.category, traditional.urgent, traditional.confidence, traditional.keywords, traditional.rule) == (
            simplified.category, simplified.urgent, simplified.confidence, simplified.keywords, simplified.rule
        ), message.text  # fmt: skip
