"""The n-gram model: same figures as scikit-learn, a shipped model that matches the corpus, taxonomy changes."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from nlp import model as model_module
from nlp.evaluation import read_labelled
from nlp.model import TextModel, ngrams
from nlp.training import PROJECT_ROOT, fingerprint, training_files
from tests.nlp.support import DATA, shared_classifier

UNTOUCHED = (
    "dev_fresh10.tsv",
    "dev_fresh11.tsv",
    "dev_fresh12.tsv",
    "dev_fresh13.tsv",
    "dev_fresh14.tsv",
    "dev_fresh15.tsv",
    "dev_fresh16.tsv",
    "dev_fresh17.tsv",
    "dev_fresh18.tsv",
    "dev_fresh19.tsv",
    "dev_fresh20.tsv",
    "dev_fresh21.tsv",
    "dev_fresh22.tsv",
    "dev_formal9.tsv",
)
# Measured but not trained on, by choice (see data/training.txt); its rows have been read.
MEASURED_ONLY = ("dev_staff.tsv", "train_formal_m.tsv")


def test_ngrams_fold_digits_and_frame_the_text() -> None:
    grams = ngrams("电梯停在3楼")
    assert grams[:6] == ["电", "梯", "停", "在", "0", "楼"]
    assert "^电" in grams and "楼$" in grams and "^电梯" in grams and "0楼$" in grams
    assert ngrams("") == ["^$"]


@pytest.mark.parametrize(
    "text", ["7栋1单元502楼道灯坏了", "12号楼3单元楼道灯坏了", "3-2-1101楼道灯坏了", "502室楼道灯坏了"]
)
def test_an_address_is_one_mark(text: str) -> None:
    # Digit by digit, an address taught the urgency head that a precise location is an emergency.
    grams = ngrams(text)
    assert grams[0] == "#" and "^#楼" in grams and not any("0" in gram for gram in grams)


def test_a_phone_number_is_one_mark_but_a_date_is_not() -> None:
    assert "#" in ngrams("电话13812345678") and "0" not in ngrams("电话13812345678")
    assert "#" not in ngrams("11月21号停水")


def test_inference_matches_scikit_learn_on_the_same_training() -> None:
    sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    from nlp.training import corpus_rows, fit

    texts, labels, _ = corpus_rows([DATA / "dev_formal.tsv", DATA / "dev_holdout_chat.tsv"])
    trained = fit(texts, labels, c=5.0, max_features=10**6)
    vectorizer = sklearn_text.TfidfVectorizer(analyzer=ngrams, binary=True, min_df=2)
    matrix = vectorizer.fit_transform(texts)
    regression = sklearn_linear.LogisticRegression(C=5.0, max_iter=3000).fit(matrix, labels)
    probe = [*texts[:40], "电梯又坏了谁管管", "今天天气真好", "", "😀", "x" * 700]
    expected = regression.predict_proba(vectorizer.transform(probe))
    for text, row in zip(probe, expected, strict=True):
        ours = trained.probabilities(text)
        assert [ours[label] for label in regression.classes_] == pytest.approx(list(row), abs=1e-6)


def test_the_shipped_model_was_trained_on_the_current_corpus() -> None:
    shipped = shared_classifier().model
    assert shipped is not None, "nlp/data/model.npz missing or unreadable"
    expected = {str(path.relative_to(PROJECT_ROOT)): fingerprint(path) for path in training_files()}
    assert shipped.info.trained_on == expected, (
        "the corpus or nlp/data/training.txt changed since the model was trained: run `python -m nlp train`"
    )
    assert shipped.info.rows == sum(len(read_labelled(path)) for path in training_files())


def test_sets_kept_for_measuring_are_not_trained_on() -> None:
    names = {path.name for path in training_files()}
    for name in UNTOUCHED:
        assert (DATA / name).exists()
        assert name not in names
    for name in MEASURED_ONLY:
        assert (DATA / name).exists()
        assert name not in names
    # Every labelled file is either trained on or kept to measure on: none is forgotten.
    assert {path.name for path in DATA.glob("*.tsv")} == names | set(UNTOUCHED) | set(MEASURED_ONLY)


def test_save_and_load_round_trip(tmp_path) -> None:
    shipped = shared_classifier().model
    assert shipped is not None
    path = tmp_path / "model.npz"
    shipped.save(path)
    again = TextModel.load(path)
    text = "楼上装修噪音太大了"
    assert again.labels == shipped.labels and again.size == shipped.size
    assert np.allclose(again.logits(text), shipped.logits(text), atol=1e-5)


def test_a_broken_model_file_means_keywords_alone_with_a_warning(tmp_path, monkeypatch, caplog) -> None:
    broken = tmp_path / "model.npz"
    broken.write_bytes(b"not a model")
    monkeypatch.setattr(model_module, "DEFAULT_MODEL", broken)
    with caplog.at_level(logging.WARNING, logger="nlp.model"):
        assert model_module.default_model.__wrapped__() is None
    assert "keywords and rules alone" in caplog.text


def test_the_model_can_be_turned_off_in_the_taxonomy() -> None:
    keywords_only = shared_classifier().with_taxonomy({"scoring": {"model": 0}})
    assert keywords_only.model is None
    assert keywords_only.classify("3栋电梯坏了").category == "repair"
    explained = keywords_only.explain("3栋电梯坏了")
    assert explained["model"] == {} and explained["combined"] == {}


def test_the_model_decides_when_the_keywords_are_unsure() -> None:
    classifier = shared_classifier()
    # No keyword fits: the keywords alone call it chat; the model knows how noise complaints read.
    text = "某幼儿园早上六点半就放广播体操音乐"
    keywords_only = classifier.with_taxonomy({"scoring": {"model": 0}})
    assert keywords_only.classify(text).category == "none"
    verdict = classifier.classify(text)
    assert (verdict.category, verdict.rule) == ("dispute", "model")
    explained = classifier.explain(text)
    assert explained["model"] and sum(classifier.model.probabilities(text).values()) == pytest.approx(1.0)


def test_sure_keyword_verdicts_skip_the_model() -> None:
    classifier = shared_classifier()
    verdict = classifier.classify("3栋2单元电梯坏了，老人下不了楼，麻烦物业尽快来修")
    assert verdict.category == "repair" and verdict.rule == "keywords"
    assert classifier.explain("3栋2单元电梯坏了，老人下不了楼，麻烦物业尽快来修")["combined"] == {}


def test_a_renamed_category_keeps_what_the_model_learnt() -> None:
    renamed = shared_classifier().with_taxonomy({"rename": {"dispute": "neighbours"}})
    assert renamed.taxonomy.category("neighbours").learned_as == "dispute"
    text = "楼上天天半夜拖椅子，吵得人睡不着"
    assert renamed.classify(text).category == "neighbours"


def test_a_category_the_model_never_saw_wins_through_its_keywords() -> None:
    extended = shared_classifier().with_taxonomy(
        {"categories": {"greening": {"names": {"zh-Hans": "绿化养护"}, "keywords": {"砍树": 3.0, "毁绿": 3.0}}}}
    )
    assert extended.classify("小区里有人偷偷砍树，好好的绿化带被毁了，谁来管管").category == "greening"
    assert extended.classify("今天天气真好").category == "none"
    assert extended.classify("3栋电梯坏了，麻烦尽快来修").category == "repair"


def test_a_removed_category_leaves_its_requests_to_other_not_to_chat() -> None:
    reduced = shared_classifier().with_taxonomy({"categories": {"parking": None}})
    verdict = reduced.classify("地下车库我的车位又被别人的车占了，麻烦物业处理")
    assert verdict.category not in ("none", "parking")
