from kb.text import (
    EN,
    ZH,
    char_trigrams,
    dictionary_sync,
    language_of,
    normalise,
    search_terms,
    segmenter,
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
    assert search_terms("退款多久", chinese_words=False) == ["c:退款", "c:款多", "c:多久"]
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


SEGMENTATION_SAMPLES = [
    "我昨天下单的草莓今天到了打开发现有几颗发霉了",
    "快递三天了还没送到物流一直显示在分拣中心",
    "我买的牛奶过期了孩子喝了以后拉肚子请尽快处理",
    "盒马鲜生的榴莲很新鲜",
    "不",
    "的的的的的",
    "哈哈哈哈哈",  # equal scores: jieba takes the longer word
    "床垫实在是太太太硬了",
    "买了丄丅牌的牛奶",  # characters jieba's dictionary does not know
    "研究生命起源",  # ambiguous: 研究生/命 or 研究/生命
    "结婚的和尚未结婚的",
    "酒店位置比较偏交通不方便出租车还有拒载的情况另外该酒店会告知携程客人提前退房" * 3,
]


def test_dictionary_segmentation_cuts_exactly_like_jieba_without_hmm():
    tokenizer = segmenter.tokenizer()
    for sample in SEGMENTATION_SAMPLES:
        assert segmenter.cut(sample, hmm=False) == list(tokenizer.cut(sample, HMM=False))


def test_dictionary_segmentation_follows_words_added_and_removed():
    tokenizer = segmenter.tokenizer()
    dictionary_sync(["盒马鲜生", "榴莲很新"])
    assert segmenter.cut("盒马鲜生的榴莲很新鲜", hmm=False)[0] == "盒马鲜生"
    dictionary_sync(["盒马鲜生"])  # a removed word stays in jieba's table with frequency 0

    for sample in SEGMENTATION_SAMPLES:
        assert segmenter.cut(sample, hmm=False) == list(tokenizer.cut(sample, HMM=False))


def test_runs_with_characters_jieba_does_not_treat_as_chinese_are_left_to_jieba():
    sample = "㐀这是扩展区的字"  # U+3400 is outside jieba's range for Chinese

    assert segmenter.cut(sample, hmm=False) == list(segmenter.tokenizer().cut(sample, HMM=False))
