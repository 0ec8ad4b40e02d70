"""The classifier never raises, whatever it is given, and is safe to share between threads."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import jieba
import pytest

from bot.core.classification import NONE
from nlp.classifier import KeywordClassifier
from nlp.evaluation import read_labelled
from tests.nlp.support import DEV_CORPUS

ODD_INPUTS = [
    "",
    " ",
    "\n\n\t",
    "。，、；：？！…—·「」『』（）【】",
    "!!!???...",
    "😀🙏🏻👍🏿🇨🇳❤️‍🔥",
    "\u200b\u200c\u200d\ufeff",
    "\x00\x01\x02\x1b[31m\x7f",
    "\ud800\udfff",
    "电梯\u200b坏\u200d了",
    "Lift 坏了 please 修一下 🙏",
    "ＡＢＣ，电梯壞了！！",
    "a" * 4096,
    "电梯坏了" * 1024,
    "楼上装修噪音太大，" * 455,
    "😀" * 4096,
    "[强]" * 1000,
    "@" * 4096,
    "http://" + "x" * 4089,
    "(((((((((((((((((((((((((((((((((((((",
    "\\d+.*?[^]",
]


@pytest.mark.parametrize("text", ODD_INPUTS, ids=range(len(ODD_INPUTS)))
def test_odd_input_never_raises(classifier: KeywordClassifier, text: str) -> None:
    verdict = classifier.classify(text)
    assert verdict.rule != "error"
    assert 0.0 <= verdict.confidence <= 1.0
    assert verdict.text == text


def test_random_unicode_never_raises(classifier: KeywordClassifier) -> None:
    rng = random.Random(20240501)
    for _ in range(300):
        length = rng.choice([1, 3, 20, 200, 4096])
        text = "".join(chr(rng.randrange(0x20, 0x2FFFF)) for _ in range(length))
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        assert classifier.classify(text).rule != "error"


@pytest.mark.parametrize("value", [None, 12345, b"\xe7\x94\xb5\xe6\xa2\xaf"])
def test_non_text_never_raises(classifier: KeywordClassifier, value: object) -> None:
    verdict = classifier.classify(value)  # type: ignore[arg-type]
    assert verdict.category == NONE or verdict.is_request


def test_a_full_length_message_is_classified_on_its_opening(classifier: KeywordClassifier) -> None:
    rant = "楼上每天半夜拖椅子，吵得根本睡不着。" + "我真的受够了。" * 600
    verdict = classifier.classify(rant[:4096])
    assert verdict.category == "dispute"


def test_no_message_of_the_dev_corpus_hits_the_error_fallback(classifier: KeywordClassifier) -> None:
    for message in read_labelled(DEV_CORPUS):
        assert classifier.classify(message.text).rule != "error", message.text


def test_concurrent_reads_agree_with_sequential_ones(classifier: KeywordClassifier) -> None:
    texts = [message.text for message in read_labelled(DEV_CORPUS)][:300]
    expected = [classifier.classify(text) for text in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            assert list(pool.map(classifier.classify, texts)) == expected


def test_the_classifier_has_its_own_tokenizer_not_the_global_one(classifier: KeywordClassifier) -> None:
    assert classifier._tokenizer is not jieba.dt
    assert classifier._tokenizer.initialized
    assert classifier.tokens("网格员和楼栋长都来了") == ("网格员", "和", "楼栋长", "都", "来", "了")


def test_importing_the_package_builds_nothing() -> None:
    import nlp.classifier

    assert not jieba.dt.initialized
    assert nlp.classifier.KeywordClassifier.__init__.__doc__


def test_a_keyword_change_builds_a_new_classifier_and_leaves_the_old_one(
    classifier: KeywordClassifier,
) -> None:
    text = "小区的晾衣杆断了"
    before = classifier.classify(text)
    changed = classifier.with_keywords("repair", add={"晾衣杆": 1.5})
    assert changed is not classifier
    assert changed.classify(text).category == "repair"
    assert changed._tokenizer is classifier._tokenizer
    assert classifier.classify(text) == before
    assert "晾衣杆" not in (classifier.taxonomy.category("repair").keywords or {})


def test_removing_a_keyword_takes_it_out_of_the_match(classifier: KeywordClassifier) -> None:
    changed = classifier.with_keywords("other", remove=["违建"])
    assert "违建" not in changed.classify("这是违建吧").keywords


def test_a_keyword_for_an_unknown_category_is_refused(classifier: KeywordClassifier) -> None:
    with pytest.raises(ValueError, match="no_such"):
        classifier.with_keywords("no_such", add={"词": 1.0})


def test_the_regex_prefilter_never_hides_a_match(classifier: KeywordClassifier) -> None:
    matcher = classifier._matcher
    rules = [(rule, pattern) for rule, pattern, _, _ in matcher.patterns]
    rules += [(rule, pattern) for rule, pattern, *_ in matcher.urgent]
    rules += list(matcher.solved) + list(matcher.notices)
    texts = [classifier.normalize(message.text).text for message in read_labelled(DEV_CORPUS)]
    rng = random.Random(7)
    texts += ["".join(rng.sample(texts, 3))[rng.randrange(5) :] for _ in range(300)]
    for text in texts:
        triggered = classifier._scan(text).rules
        for rule, pattern in rules:
            if pattern.search(text):
                assert rule in triggered, (pattern.pattern, text)
