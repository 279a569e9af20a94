import pytest

from kb import classifier
from kb.classifier import LinearTextModel
from kb.text import classifier_features

TEXTS = [
    "快递三天了还没到",
    "物流一直不更新",
    "配送太慢了，包裹还没收到",
    "骑手还没送到",
    "我要退货退款",
    "申请退款怎么还没到账",
    "商品破损想换货",
    "质量问题要退钱",
    "app登录不上去",
    "密码忘了怎么找回",
    "支付失败一直报错",
    "验证码收不到",
]
LABELS = ["logistics"] * 4 + ["after_sales"] * 4 + ["tech"] * 4


def test_a_model_trained_on_a_few_examples_gives_each_label_a_probability():
    model = classifier.fit(TEXTS, LABELS)

    probabilities = model.probabilities("快递还没送到")

    assert sorted(probabilities) == ["after_sales", "logistics", "tech"]
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert max(probabilities, key=probabilities.__getitem__) == "logistics"
    assert model.predict("我想退款")[0] == "after_sales"
    assert model.predict("登录密码错误")[0] == "tech"


def test_a_stored_model_predicts_exactly_like_the_trained_one():
    model = classifier.fit(TEXTS, LABELS)

    loaded = LinearTextModel.from_bytes(model.to_bytes())

    assert loaded.labels == model.labels
    for text in ["快递还没送到", "我想退款", "", "hello"]:
        for label, share in model.probabilities(text).items():
            assert loaded.probabilities(text)[label] == pytest.approx(share, abs=1e-5)


def test_two_label_models_use_one_coefficient_row():
    model = classifier.fit(["很好", "满意", "很差", "失望"], ["1", "1", "0", "0"])

    assert model.coef.shape[0] == 1
    assert model.predict("非常满意")[0] == "1"
    assert sum(model.probabilities("失望").values()) == pytest.approx(1.0)


def test_training_refuses_a_single_label():
    with pytest.raises(ValueError, match="at least two different labels"):
        classifier.fit(["a", "b"], ["x", "x"])


def test_the_held_out_split_keeps_a_fifth_of_every_label_and_is_repeatable():
    labels = ["a"] * 10 + ["b"] * 5

    train, test = classifier.stratified_split(labels)

    assert [labels[i] for i in test].count("a") == 2
    assert [labels[i] for i in test].count("b") == 1
    assert sorted(train + test) == list(range(15))
    assert classifier.stratified_split(labels) == (train, test)


def test_a_label_seen_once_is_only_trained_on():
    labels = ["a", "a", "b", "b", "c"]

    train, test = classifier.stratified_split(labels)

    assert 4 in train
    assert sorted(labels[i] for i in test) == ["a", "b"]


def test_evaluation_reports_accuracy_macro_f1_and_time_per_message():
    model = classifier.fit(TEXTS, LABELS)

    evaluation = classifier.evaluate(
        model, ["快递没到", "退款"], ["logistics", "after_sales"], n_train=12
    )

    assert evaluation.accuracy == 1.0
    assert evaluation.macro_f1 == 1.0
    assert (evaluation.n_train, evaluation.n_test) == (12, 2)
    assert 0 < evaluation.ms_per_message_p50 <= evaluation.ms_per_message_p99


def test_percentiles_use_the_nearest_rank():
    assert classifier.percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert classifier.percentile(list(range(1, 101)), 99) == 99.0
    assert classifier.percentile([], 99) == 0.0


def test_a_model_with_a_latent_projection_survives_storage(monkeypatch):
    # The projection is only used on larger sets; shrink it to train one on a few rows.
    monkeypatch.setattr(classifier, "LSA_MIN_ROWS", 10)
    monkeypatch.setattr(classifier, "LSA_COMPONENTS", 3)
    model = classifier.fit(TEXTS, LABELS)

    loaded = LinearTextModel.from_bytes(model.to_bytes())

    assert model.lsa_components is not None and model.lsa_components.shape[0] == 3
    assert loaded.predict("快递还没送到")[0] == model.predict("快递还没送到")[0] == "logistics"
    for label, share in model.probabilities("我想退款").items():
        assert loaded.probabilities("我想退款")[label] == pytest.approx(share, abs=1e-3)


PROBES = [
    "快递还没送到，物流三天没更新",
    "我想退款，商品破损了",
    "登录密码错误，验证码收不到",
    "快递快递快递 退款",  # repeated words: sublinear term frequency
    "完全没见过的词语组合",  # nothing in the vocabulary
    "hello",
    "",
]


def _assert_same_as_scikit_learn(pipeline: classifier.FittedPipeline) -> None:
    model = pipeline.linear_model()
    expected = pipeline.predict_proba(PROBES)
    classes = [str(label) for label in pipeline.classifier.classes_]
    for text, row in zip(PROBES, expected, strict=True):
        ours = model.probabilities(text)
        assert list(ours) == classes
        for label, share in zip(classes, row, strict=True):
            assert abs(ours[label] - share) <= 1e-9, (text, label, ours[label], share)


def test_the_fast_path_gives_scikit_learns_probabilities_for_several_labels():
    _assert_same_as_scikit_learn(classifier.fit_pipeline(TEXTS, LABELS))


def test_the_fast_path_gives_scikit_learns_probabilities_for_two_labels():
    texts = ["很好，很满意", "服务不错", "太差了，很失望", "没有热水，不满意", "谢谢，下次还来"]
    labels = ["1", "1", "0", "0", "1"]

    _assert_same_as_scikit_learn(classifier.fit_pipeline(texts, labels))


@pytest.mark.parametrize("labels", [LABELS, ["good"] * 6 + ["bad"] * 6])
def test_the_fast_path_gives_scikit_learns_probabilities_with_a_latent_projection(
    monkeypatch, labels
):
    monkeypatch.setattr(classifier, "LSA_MIN_ROWS", 10)
    monkeypatch.setattr(classifier, "LSA_COMPONENTS", 3)
    pipeline = classifier.fit_pipeline(TEXTS, labels)

    assert pipeline.svd is not None
    _assert_same_as_scikit_learn(pipeline)


def test_features_of_one_text_counted_once_serve_every_model_alike():
    category = classifier.fit(TEXTS, LABELS)
    sentiment = classifier.fit(["很好", "满意", "很差", "失望"], ["1", "1", "0", "0"])
    text = "快递太差了，很失望，快递还没到"

    counts = classifier.TermCounts.of(classifier_features(text))

    assert category.probabilities_of(counts) == category.probabilities(text)
    assert sentiment.probabilities_of(counts) == sentiment.probabilities(text)
