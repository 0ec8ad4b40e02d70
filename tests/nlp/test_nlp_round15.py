"""Round 15 (issue 4): emergencies told in Cantonese and other regional voices, a child shut in a hot car,
fights with sticks, and questions about what to do *if* — which are not emergencies.

The examples were written for these tests; none is a corpus row.
"""

from __future__ import annotations

import pytest

from nlp.classifier import KeywordClassifier
from tests.nlp.support import shared_classifier


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        # Cantonese 跌咗 (fell), 起唔到身 (cannot get up); a slip (滑倒); 扶不起来 (cannot lift her).
        ("婆婆跌咗喺厨房 起唔到身 快啲嚟人", "fallen_cannot_get_up"),
        ("我妈在卫生间滑倒了，站不起来，家里就我一个", "fallen_cannot_get_up"),
        ("隔壁阿伯倒在楼梯口了 我一个人扶不起来", "fallen_cannot_get_up"),
        # A fight with sticks, or men with iron bars kicking a door in.
        ("小区门口两伙人在互殴 已经有人头上见血", "violence_or_fall"),
        ("有人拎着钢管在砸3楼的门 里面有老人", "violence_or_fall"),
        # A child shut in a car in the sun, said either way round.
        ("地库那台红色车里锁着个小朋友，一直在哭，车主快下来", "danger_now"),
        ("有个宝宝被关在车里，窗户全关着，太阳正晒", "danger_now"),
    ],
)
def test_regional_and_unusual_emergencies_are_urgent(classifier: KeywordClassifier, text: str, pattern: str) -> None:
    verdict = classifier.classify(text)
    assert verdict.urgent, text
    assert verdict.rule == f"urgent:{pattern}"


@pytest.mark.parametrize(
    "text",
    [
        # What to do if …: a question for later, not an emergency now.
        "煤气泄漏的时候能不能开灯？想问问懂的人",
        "電梯困人嘅時候可唔可以自己扒門？",
        "孩子被锁在车里这种情况，砸车窗犯法吗",
        "想提前学一下，老人摔倒了站不起来应该怎么扶",
        # Past and near misses in Cantonese (琴日 yesterday, 差啲 almost, 好彩 luckily).
        "琴日差啲困喺电梯，好彩门自己开咗",
        # Figures of speech, dreams, the internet, home towns.
        "加班加到累得快晕倒了",
        "昨晚做梦梦见楼里着火，吓醒了",
        "网上那个说小区有人跳楼的视频是假的，别转了",
        "老家来电话说有户人家煤气中毒，还好救回来了",
    ],
)
def test_questions_about_what_if_and_stories_are_not_urgent(classifier: KeywordClassifier, text: str) -> None:
    assert not classifier.classify(text).urgent, text


@pytest.mark.parametrize(
    "text",
    [
        "救命啊 孩子的数学作业我也不会",  # 救命 as an exclamation (OMG)
        "救命！这天气热死人了",
        "救救我吧 谁家有多的快递箱",
    ],
)
def test_an_exclamation_of_help_needs_the_urgency_head_to_agree(classifier: KeywordClassifier, text: str) -> None:
    assert not classifier.classify(text).urgent
    cry = next(pattern for pattern in classifier.taxonomy.urgent if pattern.name == "cry_for_help")
    assert cry.confirm > 0
    # Without the head's word (confirm 0, the rule before round 15) the cry alone made it urgent.
    alone = classifier.with_taxonomy(
        {"urgent": {"cry_for_help": {"regex": cry.regex, "category": None}}, "scoring": {"urgent_confirm": 0}}
    )
    assert alone.classify(text).urgent


@pytest.mark.parametrize(
    "text",
    [
        "救命啊 电梯卡在五楼和六楼中间 我和孩子在里面",  # a cry with an emergency the patterns also know
        "快来人啊 楼下有个老人倒在地上叫不醒",
        "隔壁阿婆在屋里喊救命，门从里面反锁了",  # someone heard calling for help: no head needed
    ],
)
def test_a_real_cry_for_help_is_still_urgent(classifier: KeywordClassifier, text: str) -> None:
    assert classifier.classify(text).urgent


def test_confirm_is_a_probability() -> None:
    from nlp.taxonomy import TaxonomyError

    with pytest.raises(TaxonomyError, match="confirm"):
        shared_classifier().with_taxonomy({"urgent": {"cry_for_help": {"regex": "救命", "confirm": 2}}})
