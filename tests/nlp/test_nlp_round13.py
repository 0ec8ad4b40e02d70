"""Round 13 (issue 4): "这不是演习" is a real alarm; tomorrow, every time, barbecue smoke and burnt pots are not emergencies.

The examples were written for these tests; none is a corpus row.
"""

from __future__ import annotations

import pytest

from nlp.classifier import KeywordClassifier


@pytest.mark.parametrize(
    "text",
    [
        "9栋走廊全是烟不是演习大家快下楼",
        "大家注意 这回不是演练真的着火了 地下车库",
    ],
)
def test_a_denied_drill_is_a_real_alarm(classifier: KeywordClassifier, text: str) -> None:
    verdict = classifier.classify(text)
    assert verdict.urgent, verdict
    assert verdict.category == "safety"


def test_the_denial_is_what_turns_the_drill_word_off(classifier: KeywordClassifier) -> None:
    # Without the list, 演习 in the clause silences the pattern: the list is what makes it urgent.
    text = "9栋走廊全是烟不是演习大家快下楼"
    assert classifier.classify(text).urgent
    assert not classifier.with_taxonomy({"urgent_unless_negated": []}).classify(text).urgent
    # The drill itself, announced, stays quiet.
    assert not classifier.classify("周六上午9栋消防演习走廊会有烟 大家别慌").urgent


@pytest.mark.parametrize(
    "text",
    [
        # the future, a recurring problem, a figure of speech
        "台风预警 明天地库可能进水 车停负二层的挪一挪",
        "每次下暴雨单元门口都积水 能不能把排水沟通一下",
        "急得跟着火一样 孩子的社保卡到底在哪办",
        "应急按钮按了没反应 赶紧修 真困人就晚了",
        # smoke and smell that are someone's cooking
        "楼下烧烤摊的烟全往楼上飘 呛死了",
        "刚才楼道的煤气味是我家煮粥糊锅了 不好意思",
        "群里别慌了 那个冒烟的是三楼锅烧糊了 已经处理好了",
    ],
)
def test_not_now_and_not_an_emergency(classifier: KeywordClassifier, text: str) -> None:
    assert not classifier.classify(text).urgent


def test_a_flood_rising_now_is_still_urgent(classifier: KeywordClassifier) -> None:
    verdict = classifier.classify("负一层车库进水了 水还在涨 车快淹到轮胎了")
    assert verdict.urgent and verdict.rule.startswith("urgent:")


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # 装修好吵 is "the renovation is so noisy", not 修好 (fixed)
        ("楼上装修好烦 每天早上七点就开始 能不能管管", "dispute"),
        ("樓上裝修好嘈，日日由朝早鑽到夜晚，唔該管下", "dispute"),
    ],
)
def test_renovation_so_noisy_is_not_a_fix(classifier: KeywordClassifier, text: str, category: str) -> None:
    verdict = classifier.classify(text)
    assert (verdict.category, verdict.rule != "solved") == (category, True), verdict


def test_a_fix_reported_is_still_solved(classifier: KeywordClassifier) -> None:
    verdict = classifier.classify("卫生间的漏水师傅已经修好了 谢谢")
    assert (verdict.category, verdict.rule) == ("none", "solved")
