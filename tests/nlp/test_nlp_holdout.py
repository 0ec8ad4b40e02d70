"""The held-out sets written after the dev corpus stay above a floor; rules for `other` and priority."""

from __future__ import annotations

import pytest

from nlp.classifier import KeywordClassifier
from nlp.evaluation import evaluate, read_labelled
from tests.nlp.support import DATA, shared_classifier

# (file, request precision, request recall, category accuracy): floors a little under the figures
# reached after tuning, so that a change that helps one set cannot quietly undo another.
HELD_OUT = [
    ("dev_formal.tsv", 0.95, 0.95, 0.90),
    ("dev_holdout_chat.tsv", 0.95, 0.95, 0.90),
    ("dev_holdout_formal.tsv", 0.95, 0.95, 0.92),
    ("dev_fresh.tsv", 0.95, 0.95, 0.92),
    ("dev_fresh2.tsv", 0.95, 0.95, 0.80),
    ("dev_fresh3.tsv", 0.95, 0.95, 0.80),
    ("dev_fresh4.tsv", 0.95, 0.95, 0.80),
    # written as an unseen check; looked at only to choose scoring.dominance (round 6)
    ("dev_fresh5.tsv", 0.92, 0.90, 0.75),
    # round 6: first measured untouched, then tuned on (first looks in nlp/README.md)
    ("dev_fresh6.tsv", 0.97, 0.97, 0.95),
    ("dev_formal2.tsv", 0.95, 0.95, 0.90),
    ("dev_formal3.tsv", 0.95, 0.95, 0.90),
    ("dev_formal4.tsv", 0.95, 0.95, 0.92),
    ("dev_formal5.tsv", 0.95, 0.95, 0.88),
    ("dev_formal6.tsv", 0.93, 0.95, 0.88),
    ("dev_formal7.tsv", 0.83, 0.95, 0.90),
    ("dev_formal8.tsv", 0.93, 0.95, 0.85),
    # never tuned on: its first look is the honest estimate for new text; the floor only guards it
    ("dev_fresh7.tsv", 0.90, 0.90, 0.76),
    # round 7: first measured untouched (1.000 / 0.992 / 0.873), then tuned on
    ("dev_fresh8.tsv", 0.97, 0.97, 0.92),
    # round 7, written after tuning and never tuned on: the honest estimate; the floor only guards it
    ("dev_fresh9.tsv", 0.95, 0.93, 0.80),
]


@pytest.mark.parametrize(("name", "precision", "recall", "accuracy"), HELD_OUT)
def test_held_out_sets_stay_above_the_floor(
    classifier: KeywordClassifier, name: str, precision: float, recall: float, accuracy: float
) -> None:
    messages = read_labelled(DATA / name)
    report = evaluate(classifier, messages, threshold=classifier.threshold)
    assert report.request_precision >= precision, name
    assert report.request_recall >= recall, name
    assert report.category_accuracy >= accuracy, name


@pytest.mark.parametrize(
    "text",
    [
        "交房两年了房产证还没办下来",  # a certificate withheld: a complaint, not an enquiry
        "在工地干了半年，老板拖着工资不给",
        "楼顶那家又在天台上搭了个铁皮房，没人管吗",
        "小区旁边要建垃圾中转站，大家都不同意",
        "某楼盘延期交房两年开发商不予赔偿",  # far stronger than the dispute word 赔偿
    ],
)
def test_requests_that_fit_no_category_are_other(classifier: KeywordClassifier, text: str) -> None:
    assert classifier.classify(text).category == "other"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("房产证丢了怎么补办", "consult"),  # the same topic as a question is an enquiry
        ("建议增设社区便民服务点", "suggestion"),
        ("小区门口的护栏被车撞坏了，一直没人修", "safety"),
    ],
)
def test_questions_proposals_and_hazards_keep_their_category(
    classifier: KeywordClassifier, text: str, category: str
) -> None:
    assert classifier.classify(text).category == category


@pytest.mark.parametrize(
    "text",
    ["刚才停电了一会，现在已经来电了", "已经交完物业费了，手机上很方便", "某社区开展消防安全宣传进小区活动"],
)
def test_chat_and_news_are_not_requests(classifier: KeywordClassifier, text: str) -> None:
    assert classifier.classify(text).category == "none"


def test_dominance_lets_a_far_stronger_category_beat_priority() -> None:
    base = (
        shared_classifier()
        .with_taxonomy({"scoring": {"model": 0}})  # the keyword layer's own constant
        .with_keywords("other", add={"甲乙丙": 3.0})
        .with_keywords("dispute", add={"丁戊己": 1.0})
    )
    text = "甲乙丙，丁戊己"
    assert base.with_taxonomy({"scoring": {"dominance": 2.5}}).classify(text).category == "other"
    assert base.with_taxonomy({"scoring": {"dominance": 0}}).classify(text).category == "dispute"
