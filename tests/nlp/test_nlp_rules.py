"""One test per classification rule, each with the message that motivated it."""

from __future__ import annotations

import pytest

from bot.core.classification import NONE, Classification
from nlp.classifier import KeywordClassifier


def verdict_of(classification: Classification) -> tuple[object, ...]:
    """Everything about a verdict except the text it was given and the tokens."""
    c = classification
    return (c.category, c.urgent, c.confidence, c.keywords, c.rule)


def test_broken_lift_is_repair_even_when_old_people_suffer(classifier: KeywordClassifier) -> None:
    verdict = classifier.classify("3栋2单元电梯坏了，老人下不了楼")
    assert verdict.category == "repair"
    assert verdict.is_request and not verdict.urgent
    assert verdict.confidence >= classifier.threshold
    assert "电梯" in verdict.keywords


@pytest.mark.parametrize("text", ["大家早上好", "谢谢", "收到", "哈哈哈哈", "晚安啦各位"])
def test_greetings_thanks_and_chat_are_not_requests(classifier: KeywordClassifier, text: str) -> None:
    verdict = classifier.classify(text)
    assert verdict.category == NONE
    assert verdict.rule == "chat_cues"


def test_person_trapped_in_lift_is_urgent(classifier: KeywordClassifier) -> None:
    verdict = classifier.classify("电梯困人了")
    assert verdict.urgent and verdict.is_request
    assert verdict.category == "repair"
    assert verdict.rule == "urgent:trapped_in_lift"


@pytest.mark.parametrize(
    ("text", "category", "rule"),
    [
        ("5栋12楼着火了！冒了好多黑烟，快打119", "safety", "urgent:fire_or_smoke"),
        ("楼道里好大的煤气味，是谁家漏气了", "safety", "urgent:gas_smell"),
        ("水管爆了！一楼大厅全是水，快关总阀", "repair", "urgent:flooding"),
        ("2栋楼下有个老人摔倒了，起不来，快来人帮忙", "care", "urgent:fallen_cannot_get_up"),
    ],
)
def test_emergencies_are_urgent_requests(
    classifier: KeywordClassifier, text: str, category: str, rule: str
) -> None:
    verdict = classifier.classify(text)
    assert (verdict.category, verdict.urgent, verdict.rule) == (category, True, rule)


@pytest.mark.parametrize(
    "text",
    [
        "明天消防演练，听到警报不要慌",  # a drill
        "楼道里停了好几辆电动车，还在充电，万一着火怎么办",  # a hypothetical
        "昨晚电梯困人了，物业半小时才到",  # the past
        "这部电梯经常困人，能不能换一台",  # a recurring problem, not happening now
    ],
)
def test_drills_hypotheticals_and_past_events_are_not_urgent(
    classifier: KeywordClassifier, text: str
) -> None:
    assert not classifier.classify(text).urgent


def test_traditional_text_classifies_exactly_like_simplified(classifier: KeywordClassifier) -> None:
    traditional = classifier.classify("樓上裝修噪音太大")
    simplified = classifier.classify("楼上装修噪音太大")
    assert traditional.category == "dispute"
    assert verdict_of(traditional) == verdict_of(simplified)


@pytest.mark.parametrize(
    "text", ["已经修好了谢谢", "电梯已经修好了谢谢物业", "感谢王师傅，半小时就把下水道通好了"]
)
def test_solved_problems_and_thanks_for_fixing_are_not_requests(
    classifier: KeywordClassifier, text: str
) -> None:
    verdict = classifier.classify(text)
    assert verdict.category == NONE
    assert verdict.rule == "solved"


@pytest.mark.parametrize("text", ["电梯修好了没两天又坏了", "楼道灯到现在还没修好", "电梯什么时候能修好啊"])
def test_a_problem_that_is_back_or_not_yet_fixed_stays_a_request(
    classifier: KeywordClassifier, text: str
) -> None:
    assert classifier.classify(text).is_request


def test_staff_notices_are_not_requests(classifier: KeywordClassifier) -> None:
    verdict = classifier.classify("温馨提示：明天上午8:00-12:00停水，请大家提前储水")
    assert verdict.category == NONE
    assert verdict.rule == "notice"


def test_request_without_category_words_is_other_and_asks(classifier: KeywordClassifier) -> None:
    verdict = classifier.classify("我要投诉，这事你们到底管不管")
    assert verdict.category == "other"
    assert verdict.rule == "request_cues"


def test_fire_lane_blocked_by_a_car_is_safety_not_parking(classifier: KeywordClassifier) -> None:
    assert classifier.classify("消防通道被车堵了，谁的车赶紧挪一下").category == "safety"


def test_when_two_categories_fit_the_higher_in_priority_wins(classifier: KeywordClassifier) -> None:
    # The keyword layer applies TAXONOMY.md's order; with the model on, what the message is mostly
    # about may win instead (on the corpus that was right more often: see nlp/README.md).
    keywords = classifier.with_taxonomy({"scoring": {"model": 0}})
    verdict = keywords.classify("物业乱收费还不管事，门禁坏了")
    explained = keywords.explain("物业乱收费还不管事，门禁坏了")
    assert explained["scores"]["property"] > explained["scores"]["repair"]
    assert (verdict.category, verdict.rule) == ("repair", "priority")
    assert classifier.classify("物业乱收费还不管事，门禁坏了").category in ("repair", "property")


def test_water_from_the_flat_above_is_a_dispute(classifier: KeywordClassifier) -> None:
    assert classifier.classify("楼上漏水到我家天花板了，上去敲门没人开").category == "dispute"


def test_leaking_shared_pipe_is_repair(classifier: KeywordClassifier) -> None:
    assert classifier.classify("楼道里的公共水管在漏水，地上湿了一大片").category == "repair"


def test_thanks_in_advance_is_politeness_not_chat(classifier: KeywordClassifier) -> None:
    assert classifier.classify("麻烦物业看一下3栋的楼道灯，谢谢").category == "repair"


def test_single_character_keyword_counts_only_as_a_word_of_its_own(classifier: KeywordClassifier) -> None:
    assert classifier.classify("楼道里好臭，几天没人打扫了").category == "sanitation"
    assert classifier.classify("楼下臭豆腐真香").category == NONE


def test_adverts_are_not_requests(classifier: KeywordClassifier) -> None:
    assert classifier.classify("专业疏通下水道、马桶，价格优惠，电话13912345678").category == NONE


def test_suggestion_to_add_a_facility_is_not_a_repair(classifier: KeywordClassifier) -> None:
    assert classifier.classify("建议小区增设几个电动车充电桩").category == "suggestion"


def test_paperwork_question_is_consult(classifier: KeywordClassifier) -> None:
    assert classifier.classify("请问居住证怎么办理，需要什么材料").category == "consult"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("😀😀😀", "emoji_only"),
        ("[强][抱拳]", "emoji_only"),
        ("！！！？？。。", "empty"),
        ("", "empty"),
        ("好", "too_short"),
    ],
)
def test_emoji_punctuation_and_single_characters_are_not_requests(
    classifier: KeywordClassifier, text: str, rule: str
) -> None:
    verdict = classifier.classify(text)
    assert (verdict.category, verdict.rule) == (NONE, rule)


def test_confidence_separates_clear_requests_from_vague_ones(classifier: KeywordClassifier) -> None:
    clear = classifier.classify("5号楼电梯又坏了，这个月第三次了，物业能不能彻底修一下")
    vague = classifier.classify("我要投诉")
    assert clear.confidence >= classifier.threshold > vague.confidence
    assert 0.0 <= vague.confidence <= clear.confidence <= 1.0


def test_explain_gives_jieba_tokens_and_the_evidence(classifier: KeywordClassifier) -> None:
    explained = classifier.explain("管理處什麼時候來修電梯")
    assert explained["folded"] == "管理处什么时候来修电梯"
    assert "管理处" in explained["tokens"]
    assert explained["scores"]["repair"] > 0
    assert classifier.classify("电梯坏了", explain=True).tokens


def test_category_names_follow_the_locale(classifier: KeywordClassifier) -> None:
    assert classifier.category_name("repair") == "报修"
    assert classifier.category_name("repair", "zh-TW") == "報修"
    assert classifier.category_name("repair", "en_US") == "Repair"
    assert classifier.category_name("repair", "fr") == "报修"
    assert classifier.category_name("none", "en") == "Not a request"
    assert classifier.category_name("no_such_code") == "no_such_code"


def test_codes_are_in_priority_order(classifier: KeywordClassifier) -> None:
    assert classifier.codes == (
        "safety", "care", "repair", "dispute", "parking", "sanitation", "property", "consult", "suggestion", "other"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("锦绣山水小区业主投诉楼上夜间跳绳声音过大", "dispute"),  # 山水小区 is a name, not 水小
        ("碧水蓝天小区门口的垃圾桶满了没人清理", "sanitation"),
        ("某小区物业以欠物业费为由限制业主门禁", "property"),  # far stronger than the topic word 门禁
        ("下水井盖附近一股臭味，夏天更严重", "sanitation"),  # a smell, not a missing cover
    ],
)
def test_place_names_and_topic_words_do_not_decide(
    classifier: KeywordClassifier, text: str, category: str
) -> None:
    assert classifier.classify(text).category == category


def test_a_stove_that_will_not_light_is_no_fire(classifier: KeywordClassifier) -> None:
    verdict = classifier.classify("燃气灶打不着火，燃气公司说是管道压力问题")
    assert not verdict.urgent
    assert verdict.category == "repair"


@pytest.mark.parametrize(
    "text",
    [
        "楼上的小朋友钢琴弹得越来越好了",
        "下雨了，谁家的被子还晾在外面，赶紧收",
        "请问谁家有梯子借用一下",
        "今年物业费交了吗？我已经在手机上交好了",
        "物业已经把楼道的杂物清理了，干净多了",
    ],
)
def test_praise_favours_and_done_chores_are_chat(classifier: KeywordClassifier, text: str) -> None:
    assert classifier.classify(text).category == NONE
