from kb.text import (
    EN,
    ZH,
    char_trigrams,
    dictionary_sync,
    language_of,
    normalise,
    search_terms,
    words,
)


def test_full_width_letters_digits_and_punctuation_become_half_width_lower_case():
    assert normalise("ＡＰＰ  闪退１２３１５！") == "app 闪退12315!"


def test_language_is_chinese_when_chinese_characters_carry_the_text():
    assert language_of("我的订单还没到") == ZH
    assert language_of("Where is my order?") == EN
    assert language_of("iPhone 充电器坏了") == ZH
    assert language_of("") == EN


def test_retailer_dictionary_words_are_kept_whole_by_segmentation():
    assert "盒马鲜生" not in words("盒马鲜生的榴莲")

    dictionary_sync(["盒马鲜生"])

    assert words("盒马鲜生的榴莲") == ["盒马鲜生", "榴莲"]


def test_english_words_are_stemmed_and_function_words_dropped():
    assert words("The parcels were delivered late") == ["parcel", "deliv", "late"]


def test_search_terms_carry_words_bigrams_and_trigrams_by_family():
    assert search_terms("退款多久") == ["w:退款", "w:多久", "c:退款", "c:款多", "c:多久"]
    assert search_terms("refund") == [
        "w:refund",
        "t:<re",
        "t:ref",
        "t:efu",
        "t:fun",
        "t:und",
        "t:nd>",
    ]
    assert char_trigrams("ab") == ["<ab", "ab>"]
