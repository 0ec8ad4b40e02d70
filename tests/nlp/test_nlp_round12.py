"""Round 12 (issue 4): 救命 as slang, people missing said plainly, answers that an alarm is over, gas by its signs.

The examples were written for these tests; none is a corpus row.
"""

from __future__ import annotations

import pytest

from bot.core.classification import NONE
from nlp.classifier import KeywordClassifier


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        # a cry for help is still one
        ("救命啊 有人掉进小区的池塘里了", "urgent:cry_for_help"),
        ("救命！我被锁在地下室出不来了", "urgent:cry_for_help"),
        # someone missing, said without 走丢 or 痴呆
        ("有没有人看到我奶奶 她穿灰色外套 中午出门到现在没回来", "urgent:fallen_cannot_get_up"),
        ("刚还在滑梯那玩 一转眼人就不见了 四岁男孩 蓝衣服", "urgent:fallen_cannot_get_up"),
        ("我爷爷有点糊涂 一早自己出去了 到现在还没回家", "urgent:fallen_cannot_get_up"),
        ("大家看见我家娃没有 穿黄雨衣 刚才还在单元门口", "urgent:fallen_cannot_get_up"),
        # a gas leak told by its signs
        ("厨房管子嘶嘶地响 有股怪味 头有点晕", "urgent:gas_signs"),
    ],
)
def test_emergencies_said_plainly_are_urgent(classifier: KeywordClassifier, text: str, rule: str) -> None:
    verdict = classifier.classify(text)
    assert (verdict.urgent, verdict.rule) == (True, rule)
    assert verdict.category != NONE


@pytest.mark.parametrize(
    "text",
    [
        # 救命 as an exclamation in chat
        "救命 今天的晚霞也太好看了吧",
        "笑到救命 楼下小孩在学大鹅叫",
        # a pet or a thing gone, an old person's joke about memory
        "有没有人看到我家的猫 橘色的 昨晚没回来",
        "我老糊涂了 钥匙又找不到了",
        # an answer that the alarm is over or was never one
        "大家放心 刚才那是电视声 不是打架",
        "刚才电梯困人的事已处理完毕 人员已安全出来",
        "楼道冒烟是有人烧纸 保安已经劝走了 没事了",
        "那股燃气味是师傅在修灶 已经弄好了",
        # smells and hisses that are not gas, and a hazard that is only a warning
        "下水道一股臭鸡蛋味 好几天了",
        "电动车轮胎漏气了 嘶嘶的",
        "楼道堆满了纸箱 一点火星就能烧起来 赶紧清走",
    ],
)
def test_look_alikes_are_not_urgent(classifier: KeywordClassifier, text: str) -> None:
    assert not classifier.classify(text).urgent


@pytest.mark.parametrize(
    ("text", "keywords_alone"),
    [
        ("说起漏水 我们家去年被楼上淹过一次 赔了两千了事 邻居关系反而更好了", "dispute"),
        ("之前停车位不够 后来物业划了新车位 现在好停多了", "parking"),
    ],
)
def test_the_model_vetoes_sure_keywords_on_chat_that_names_a_problem(
    classifier: KeywordClassifier, text: str, keywords_alone: str
) -> None:
    # The keywords are sure of a request; the model alone thinks it chat.
    without = classifier.with_taxonomy({"scoring": {"none_veto": 0}}).classify(text)
    assert (without.category, without.rule) == (keywords_alone, "keywords")
    chat = classifier.model.probabilities(classifier.normalize(text).text)[NONE]
    assert chat > 0.5
    assert classifier.explain(text)["chat_probability"] == pytest.approx(chat, abs=1e-3)
    # At or below the model's P(none) the veto turns the verdict; above it the keywords stand.
    vetoed = classifier.with_taxonomy({"scoring": {"none_veto": chat - 0.01}}).classify(text)
    assert (vetoed.category, vetoed.rule, vetoed.confidence) == (NONE, "model_none", round(chat, 3))
    kept = classifier.with_taxonomy({"scoring": {"none_veto": chat + 0.01}}).classify(text)
    assert (kept.category, kept.rule) == (keywords_alone, "keywords")


def test_the_veto_leaves_requests_and_emergencies_alone(classifier: KeywordClassifier) -> None:
    for text, category in (
        ("3栋电梯坏了，麻烦尽快来修", "repair"),
        ("楼上装修噪音太大了 能不能管管", "dispute"),
        ("地库入口又被一辆白色SUV堵住了 车主快来挪车", "parking"),
    ):
        verdict = classifier.classify(text)
        assert verdict.category == category, text
        assert classifier.explain(text)["chat_probability"] is not None
        assert classifier.explain(text)["chat_probability"] < classifier.taxonomy.scoring.none_veto
    urgent = classifier.classify("救命！我被锁在地下室出不来了")
    assert urgent.urgent and urgent.category != NONE
