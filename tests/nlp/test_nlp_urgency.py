"""The model's urgency head: emergencies worded in ways no urgent pattern foresaw (round 11 of issue 4).

The examples were written for these tests; none is a corpus row.
"""

from __future__ import annotations

import numpy as np
import pytest

from nlp.model import TextModel
from tests.nlp.support import DATA, shared_classifier

# Emergencies no urgent pattern matches: the head flags them.
HEAD_ONLY = [
    ("5号楼二单元的过道黑乎乎的全是烟 看不清楼梯 有人在喊", "safety"),
    ("5號樓二單元的過道黑乎乎的全是煙 看不清樓梯 有人在喊", "safety"),
    ("我妈在卫生间滑了一跤 躺着起不来 我一个人抬不动 谁能来帮帮忙", "care"),
    ("地下室配电房里噼里啪啦响 还有一股焦糊味", "safety"),
]


@pytest.fixture(scope="module")
def patterns_only():
    return shared_classifier().with_taxonomy({"scoring": {"urgent_model": 0}})


@pytest.mark.parametrize(("text", "category"), HEAD_ONLY)
def test_the_head_flags_an_emergency_no_pattern_names(text: str, category: str, patterns_only) -> None:
    assert not patterns_only.classify(text).urgent
    verdict = shared_classifier().classify(text)
    assert (verdict.category, verdict.urgent, verdict.rule) == (category, True, "urgent:model")
    assert shared_classifier().explain(text)["urgency"] >= shared_classifier().taxonomy.scoring.urgent_model


def test_a_not_now_word_makes_the_head_need_to_be_surer() -> None:
    text = "上个月5号楼二单元的过道黑乎乎的全是烟 看不清楼梯 有人在喊"  # the past (urgent_unless)
    assert not shared_classifier().classify(text).urgent
    # 上个月 also sets a story's frame (urgent_frame, round 17), which keeps the head from flagging it at
    # all; without frames the not-now bar is what decides, as this test shows.
    # Since round 18 the head gives this story 0.94 (more emergencies told in smoke and shouting), so the
    # not-now bar is set above what it gives here, to show the mechanism.
    frameless = shared_classifier().with_taxonomy({"urgent_frame": []})
    urgency = frameless.model.analyse(frameless.normalize(text).text).urgency
    assert 0.3 < urgency < 0.99, "the head is worried"
    shipped = frameless.with_taxonomy({"scoring": {"urgent_model_not_now": (urgency + 1) / 2}})
    # With the usual threshold below what the head gives, the not-now word still keeps the flag down…
    lowered = shipped.with_taxonomy({"scoring": {"urgent_model": urgency - 0.05}})
    assert not lowered.classify(text).urgent
    # …because the head must reach urgent_model_not_now; below that, it may raise the flag,
    assert lowered.with_taxonomy({"scoring": {"urgent_model_not_now": urgency - 0.05}}).classify(text).urgent
    # and at 0 such a message is never flagged by the head, which is then not even asked.
    silenced = lowered.with_taxonomy({"scoring": {"urgent_model_not_now": 0}})
    assert not silenced.classify(text).urgent
    assert silenced.explain(text)["urgency"] is None


@pytest.mark.parametrize(
    "text",
    [
        "5号楼二单元的过道黑乎乎的全是烟 看不清楼梯 有人在喊 已经扑灭了",  # over (urgent_over)
        "电动车轮胎漏气了 嘶嘶的 还有股怪味",  # a look-alike: the hiss is a tyre (urgent_over)
    ],
)
def test_words_that_say_it_is_over_keep_the_head_quiet(text: str) -> None:
    shipped = shared_classifier()
    urgency = shipped.model.analyse(shipped.normalize(text).text).urgency
    assert urgency > 0.3, "the head is worried by this text"
    # Even with both thresholds below what the head gives, the word keeps the flag down.
    low = urgency - 0.05
    classifier = shipped.with_taxonomy({"scoring": {"urgent_model": low, "urgent_model_not_now": low}})
    verdict = classifier.classify(text)
    assert not verdict.urgent
    assert classifier.explain(text)["urgency"] is None


def test_the_head_raises_the_flag_only_in_categories_with_emergencies() -> None:
    classifier = shared_classifier()
    assert set(classifier.model.urgency.categories) == {"safety", "care", "repair", "dispute"}
    # A blocked exit with a crying child: the head is worried, but a parking request is not paged as one.
    text = "地库A区有辆车挡着出口 里面有个小孩在哭 车主电话打不通"
    assert classifier.model.analyse(classifier.normalize(text).text).urgency >= 0.6
    verdict = classifier.classify(text)
    assert (verdict.category, verdict.urgent) == ("parking", False)


def test_chat_and_plain_requests_stay_calm() -> None:
    classifier = shared_classifier()
    for text in (
        "今天天气真好",
        "谢谢楼长",
        "3栋电梯坏了，麻烦尽快来修",
        "楼上装修噪音太大了",
        "物业费怎么交",
    ):
        assert not classifier.classify(text).urgent, text


def test_the_head_can_be_turned_off_and_a_community_keeps_it_on_renamed_codes(patterns_only) -> None:
    assert patterns_only.classify(HEAD_ONLY[0][0]).urgent is False
    renamed = shared_classifier().with_taxonomy({"rename": {"care": "elderly_help"}})
    verdict = renamed.classify(HEAD_ONLY[2][0])
    assert (verdict.category, verdict.urgent) == ("elderly_help", True)


def test_head_matches_scikit_learn_and_survives_save_and_load(tmp_path) -> None:
    pytest.importorskip("sklearn")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from nlp.model import ngrams
    from nlp.training import corpus_rows, fit

    texts, labels, urgent = corpus_rows([DATA / "train_urgent_a.tsv", DATA / "dev_holdout_chat.tsv"])
    trained = fit(texts, labels, urgent=urgent)
    assert trained.urgency is not None and "safety" in trained.urgency.categories
    vectorizer = TfidfVectorizer(analyzer=ngrams, binary=True, min_df=2)
    regression = LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced")
    regression.fit(vectorizer.fit_transform(texts), [int(flag) for flag in urgent])
    probe = [*texts[:30], "电梯里关着人出不来", "", "😀", "x" * 700]
    expected = regression.predict_proba(vectorizer.transform(probe))[:, 1]
    ours = [trained.analyse(text).urgency for text in probe]
    assert ours == pytest.approx(list(expected), abs=1e-6)

    path = tmp_path / "model.npz"
    trained.save(path)
    again = TextModel.load(path)
    assert again.urgency is not None and again.urgency.categories == trained.urgency.categories
    for text in probe:
        assert again.analyse(text).urgency == pytest.approx(trained.analyse(text).urgency, abs=1e-5)
        assert np.allclose(again.logits(text), trained.logits(text), atol=1e-5)


def test_a_model_file_without_the_head_still_works(tmp_path) -> None:
    shipped = shared_classifier().model
    plain = TextModel(
        vocabulary=shipped._vocabulary,
        idf=shipped._idf,
        weights=shipped._weights,
        intercept=shipped._intercept,
        labels=list(shipped.labels),
        info=shipped.info,
    )
    path = tmp_path / "plain.npz"
    plain.save(path)
    loaded = TextModel.load(path)
    assert loaded.urgency is None and loaded.analyse("楼道里全是黑烟").urgency is None
    from nlp.classifier import KeywordClassifier

    classifier = KeywordClassifier(model=loaded)
    verdict = classifier.classify(HEAD_ONLY[0][0])
    assert verdict.category == "safety" and not verdict.urgent
    assert classifier.classify("电梯困人了，快来人").urgent


@pytest.mark.parametrize(
    "text",
    [
        "楼下瓦斯味好重 不知道哪一户 大家先别点火",
        "家里一氧化碳报警器一直在响 老人说头疼",
        "3单元楼道里全是黑烟 什么都看不见",
        "隔壁门缝往外冒烟 敲门没人应",
        "有个陌生人在撬我家门 我一个人在家 不敢出声",
        "停车场有个小孩被锁在车里了 太阳底下晒着",
        "有个老人被北门的电动门夹住了 快来人",
        "有人拿着菜刀在花园里对着人比划",
        "卫生间吊顶塌下来了 砸到我老公头上",
        "我奶奶早上出去买菜 到现在找不到了 她有点糊涂",
    ],
)
def test_round_11_urgent_patterns(text: str, patterns_only) -> None:
    assert patterns_only.classify(text).urgent, patterns_only.explain(text)


@pytest.mark.parametrize(
    "text",
    [
        "楼道里一股烟味 谁又在抽烟",
        "楼道里好多烟头 保洁能不能扫一下",
        "楼上小孩天天跑 我家天花板都快塌了",
        "转发：冬季取暖谨防一氧化碳中毒，请注意通风",
        "某小区频现陌生人撬门，请加强巡逻",
        "今天下午消防车来是演练 不是真的着火 大家放心",
        "刷到个视频 电梯困人的时候别扒门 学到了",
        "请问家里燃气泄漏的话应该先关阀还是先开窗",
    ],
)
def test_round_11_not_urgent(text: str) -> None:
    assert not shared_classifier().classify(text).urgent, shared_classifier().explain(text)
