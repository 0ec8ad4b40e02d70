"""The dictionary scan: which terms count where they overlap, and which regexes a message runs."""

from __future__ import annotations

import dataclasses

import pytest

from nlp.classifier import KeywordClassifier, _Matcher, _prefixes
from nlp.normalize import Normalizer
from tests.nlp.support import shared_classifier


def test_a_term_inside_a_longer_one_does_not_count(classifier: KeywordClassifier) -> None:
    # 消防通道 and 通道 are both keywords; in 消防通道被堵 only the longer one counts.
    keywords = classifier._scan("消防通道被堵了").keywords
    assert "消防通道" in keywords
    assert "通道" not in keywords


def test_overlapping_terms_both_count_when_neither_holds_the_other() -> None:
    base = shared_classifier()
    changed = base.with_keywords("repair", add={"甲乙丙": 1.0, "丙丁戊": 1.0})
    assert changed._scan("甲乙丙丁戊").keywords[:2] == ["甲乙丙", "丙丁戊"]


def test_a_term_counts_once_however_often_it_is_said(classifier: KeywordClassifier) -> None:
    evidence = classifier._scan("电梯坏了，电梯坏了，电梯坏了")
    assert evidence.keywords.count("电梯") == 1


@pytest.mark.parametrize(
    ("regex", "expected"),
    [
        ("电梯(坏|停)", {"电梯"}),
        # The lookbehind matches no character; single-character alternatives parse as a class.
        ("(?<!水)(路|道)(被)?(堵|挡)", {"路", "道"}),
        ("(?<!水)(马路|通道)(被)?(堵|挡)", {"马路", "通道"}),
        # Anchored with a lookahead and an open class: the alternatives later in every match.
        ("^(?!.*(猫|狗))[^。]*(墙皮|墙面)[^,]{0,8}(掉|脱落)", {"墙皮", "墙面"}),
        ("^[^。]*地下室.{0,6}住人", {"地下"}),
    ],
)
def test_regex_triggers_are_strings_every_match_contains(regex: str, expected: set[str]) -> None:
    assert _prefixes(regex) == expected


def test_a_regex_without_any_certain_string_runs_on_every_message() -> None:
    assert _prefixes(".*") is None
    assert _prefixes("[^。]{2,}") is None


def test_no_default_rule_runs_on_every_message(classifier: KeywordClassifier) -> None:
    # Each regex of the default taxonomy is run only when its trigger occurs: none is always run.
    assert classifier._matcher.always == frozenset()


def test_a_taxonomy_without_any_term_or_pattern_scans_to_nothing(classifier: KeywordClassifier) -> None:
    taxonomy = classifier.taxonomy
    empty = dataclasses.replace(
        taxonomy,
        categories=tuple(dataclasses.replace(c, keywords={}) for c in taxonomy.categories),
        request_cues={},
        non_request_cues={},
        politeness=(),
        patterns=(),
        urgent=(),
        solved_patterns=(),
        notices=(),
    )
    matcher = _Matcher(empty, Normalizer())
    assert not matcher.scannable
    original = classifier._matcher
    try:
        classifier._matcher = matcher
        evidence = classifier._scan("电梯坏了")
    finally:
        classifier._matcher = original
    assert evidence.keywords == [] and evidence.scores == {} and evidence.rules == set()
