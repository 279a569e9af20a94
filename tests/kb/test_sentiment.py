from kb.sentiment import label_polarities, lexicon_score, model_score, ticket_score


def test_a_negation_turns_a_positive_word_negative():
    assert lexicon_score("很满意") > 0
    assert lexicon_score("不满意") < 0
    assert lexicon_score("不太好") < 0
    assert lexicon_score("not happy at all") < 0
    assert lexicon_score("很不错") > 0


def test_words_that_merely_contain_a_feeling_are_neutral():
    assert lexicon_score("快递员送到了") == 0.0
    assert lexicon_score("贵公司的客服") == 0.0


def test_more_and_stronger_words_push_the_score_further():
    assert lexicon_score("太差了") > lexicon_score("太差了，垃圾，骗子，非常失望")
    assert lexicon_score("太差了，垃圾，骗子，非常失望") >= -1.0


def test_named_and_numeric_labels_get_polarities():
    assert label_polarities(["0", "1"]) == {"0": -1.0, "1": 1.0}
    assert label_polarities(["1", "2", "3", "4", "5"]) == {
        "1": -1.0,
        "2": -0.5,
        "3": 0.0,
        "4": 0.5,
        "5": 1.0,
    }
    assert label_polarities(["负面", "中性", "正面"]) == {"负面": -1.0, "中性": 0.0, "正面": 1.0}
    assert label_polarities(["negative", "positive", "other"]) == {
        "negative": -1.0,
        "positive": 1.0,
        "other": 0.0,
    }


def test_a_model_score_is_the_expected_polarity():
    assert model_score({"0": 0.9, "1": 0.1}, {"0": -1.0, "1": 1.0}) == -0.8


def test_a_ticket_score_weighs_recent_messages_more():
    assert ticket_score([]) == 0.0
    assert ticket_score([-1.0]) == -1.0
    assert ticket_score([-1.0, 1.0]) > 0
    assert ticket_score([1.0, -1.0]) < 0


def test_the_lexicon_reads_the_longest_word_and_lets_neutral_words_hide_their_parts():
    from kb.sentiment import _zh_hits

    # 不满意 is one negative word (not 不 negating 满意); 快递 is neutral, so its 快 is not
    # read as "fast"; a negator before a positive word turns it.
    assert _zh_hits("不满意") == [-1.0]
    assert _zh_hits("快递到了") == []
    assert _zh_hits("没有满意") == [-0.8]
    assert _zh_hits("我并不喜欢") == [-0.8]
