"""Chinese and English text processing shared by search, the classifiers and the bot.

Chinese is segmented with jieba (with the retailer's own words added: article tags, product
names, words supervisors enter) and also cut into character bigrams, because segmentation
fails on typos and new product names while bigrams still overlap. English words are
lower-cased and stemmed (Snowball), and cut into character trigrams for the same reason.

jieba takes about a second to load its dictionary, so it is loaded once per process, on first
use, and its cache file is kept under `var/` (or the temp dir), never in the home directory.
"""

import html
import logging
import math
import re
import tempfile
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import jieba
import snowballstemmer
from django.conf import settings

ZH = "zh-hans"
EN = "en"

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
# After normalise(): a run of Chinese characters, or an ASCII word or number.
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:'[a-z]+)?")
_LATIN_LETTER = re.compile(r"[a-z]")
_SPACE = re.compile(r"\s+")

# Function words that carry no meaning for search or classification. Negations (不, 没, not)
# are deliberately absent: "没收到" and "收到" are different complaints.
STOPWORDS_ZH = frozenset(
    "的 了 吗 呢 吧 啊 呀 哦 嗯 么 是 在 和 与 及 或 也 都 就 还 又 把 被 给 让 我 你 您 他 她 它 "
    "我们 你们 他们 这 那 这个 那个 这些 那些 一个 请问 请 一下 谢谢 你好 您好 麻烦 怎么办 "
    "为什么 什么 怎么 如何 可以 能 能否 是否 会 要 想 有 个 下 上 中 里 吧 嘛 啦 哈".split()
)
STOPWORDS_EN = frozenset(
    "a an the i me my we our you your he she it its they them their is are was were be been "
    "am do does did to of in on at for from by with and or but if then so as this that these "
    "those there here what which who whom how can could would should will shall may might "
    "please hi hello thanks thank want wanted like get got have has had im i'm pls just".split()
)

_stemmer = snowballstemmer.stemmer("english")


def normalise(text: str) -> str:
    """NFKC (full-width letters, digits and punctuation become half-width), HTML entities
    decoded, lower case, whitespace runs become one space."""
    text = unicodedata.normalize("NFKC", html.unescape(text or ""))
    return _SPACE.sub(" ", text.lower()).strip()


def language_of(text: str) -> str:
    """`zh-hans` when Chinese characters make up a fair share of the letters, else `en`."""
    chinese = len(_CJK_CHAR.findall(text))
    if chinese == 0:
        return EN
    latin = len(_LATIN_LETTER.findall(text.lower()))
    # One Chinese character carries about as much as a short English word (~4 letters).
    return ZH if chinese * 4 >= latin else EN


def has_chinese(text: str) -> bool:
    return _CJK_CHAR.search(text) is not None


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


# --- jieba, once per process ---------------------------------------------------------------


def _cache_dir() -> str:
    var = Path(settings.BASE_DIR) / "var"
    try:
        var.mkdir(parents=True, exist_ok=True)
        probe = var / ".jieba-write-test"
        probe.touch()
        probe.unlink()
    except OSError:
        return tempfile.gettempdir()
    return str(var)


class _Segmenter:
    """A private jieba tokenizer (the global one is left to whoever else uses jieba)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokenizer: jieba.Tokenizer | None = None
        self._words: frozenset[str] = frozenset()
        # A retailer word that is also in jieba's own dictionary (a tag such as 退款) keeps
        # its own frequency here, to be put back when the word leaves the retailer's list:
        # del_word would drop it from the base dictionary, and 退款 would then cut as 退/款.
        self._base_freq: dict[str, int] = {}

    def tokenizer(self) -> jieba.Tokenizer:
        tokenizer = self._tokenizer
        if tokenizer is not None:
            return tokenizer
        with self._lock:
            if self._tokenizer is None:
                jieba.setLogLevel(logging.WARNING)
                fresh = jieba.Tokenizer()
                fresh.tmp_dir = _cache_dir()
                fresh.initialize()
                for word in self._words:
                    self._add(fresh, word)
                self._tokenizer = fresh
            return self._tokenizer

    def cut(self, run: str, *, hmm: bool = True) -> list[str]:
        tokenizer = self.tokenizer()
        if not hmm and _JIEBA_HAN.fullmatch(run):
            return _dictionary_cut(tokenizer, run)
        return list(tokenizer.cut(run, HMM=hmm))

    def set_words(self, words: Iterable[str]) -> bool:
        """Make the retailer dictionary exactly `words`; True when it changed."""
        wanted = frozenset(w.strip().lower() for w in words if w and len(w.strip()) >= 2)
        with self._lock:
            if wanted == self._words:
                return False
            tokenizer = self._tokenizer
            if tokenizer is not None:
                for word in self._words - wanted:
                    self._remove(tokenizer, word)
                for word in wanted - self._words:
                    self._add(tokenizer, word)
            self._words = wanted
            return True

    def _add(self, tokenizer: jieba.Tokenizer, word: str) -> None:
        base = tokenizer.FREQ.get(word, 0)
        if base:
            self._base_freq[word] = base
        tokenizer.add_word(word)

    def _remove(self, tokenizer: jieba.Tokenizer, word: str) -> None:
        base = self._base_freq.pop(word, 0)
        if base:
            tokenizer.add_word(word, base)
        else:
            tokenizer.del_word(word)

    @property
    def words(self) -> frozenset[str]:
        return self._words


segmenter = _Segmenter()

# The characters jieba segments as Chinese (its `re_han_default`): a run made only of these is
# one block to it, with nothing else to split off.
_JIEBA_HAN = re.compile("[\u4e00-\u9fd5]+")


def _dictionary_cut(tokenizer: jieba.Tokenizer, sentence: str) -> list[str]:
    """jieba's dictionary-only segmentation (`cut(sentence, HMM=False)`) of a run of Chinese
    characters, word for word the same (tests compare the two), in about half the time.

    It is jieba's own algorithm in one pass: for each start, from the end of the sentence
    back, the dictionary words beginning there (found while the fragment is still a
    dictionary prefix), scored by log frequency plus the best score after them; ties go to
    the longer word, as `max` over (score, end) pairs does in jieba. Without the per-start
    lists, dicts and generators, segmentation is no longer most of a message's triage time.
    """
    frequencies = tokenizer.FREQ
    log_total = math.log(tokenizer.total)
    length = len(sentence)
    best = [0.0] * (length + 1)
    ends = [0] * (length + 1)
    for start in range(length - 1, -1, -1):
        top_score = -math.inf
        top_end = -1
        stop = start
        fragment = sentence[start]
        while stop < length:
            frequency = frequencies.get(fragment)
            if frequency is None:
                break
            if frequency:
                score = math.log(frequency) - log_total + best[stop + 1]
                if score >= top_score:
                    top_score, top_end = score, stop
            stop += 1
            fragment = sentence[start : stop + 1]
        if top_end < 0:
            # No dictionary word starts here: the character stands alone (frequency 1).
            top_score, top_end = 0.0 - log_total + best[start + 1], start
        best[start] = top_score
        ends[start] = top_end
    words: list[str] = []
    start = 0
    while start < length:
        stop = ends[start] + 1
        words.append(sentence[start:stop])
        start = stop
    return words


def dictionary_sync(words: Iterable[str]) -> bool:
    """Set the retailer's own words (tags, product names); True when the set changed."""
    return segmenter.set_words(words)


# --- tokens --------------------------------------------------------------------------------


def runs(normalised: str) -> list[str]:
    """Chinese runs and ASCII words of an already normalised text, in order."""
    return _RUN.findall(normalised)


def words(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Meaningful words: jieba words for Chinese, Snowball stems for English."""
    result: list[str] = []
    for run in runs(normalise(text)):
        if has_chinese(run):
            for word in segmenter.cut(run):
                if keep_stopwords or word not in STOPWORDS_ZH:
                    result.append(word)
        elif keep_stopwords or run not in STOPWORDS_EN:
            result.append(stem(run.replace("'", "")))
    return result


def char_bigrams(run: str) -> list[str]:
    if len(run) < 2:
        return [run] if run else []
    return [run[i : i + 2] for i in range(len(run) - 1)]


def char_trigrams(word: str) -> list[str]:
    padded = f"<{word}>"
    return [padded[i : i + 3] for i in range(len(padded) - 2)]


def search_terms(text: str, *, chinese_words: bool = True) -> list[str]:
    """The terms a text is indexed and queried under, each prefixed by its family:
    `w:` whole words, `c:` Chinese character bigrams, `t:` English character trigrams.
    Without `chinese_words` Chinese gets bigrams only (article bodies: segmenting every body
    with jieba would make an index rebuild slow, and bigrams find words in long text)."""
    terms: list[str] = []
    for run in runs(normalise(text)):
        if has_chinese(run):
            if chinese_words:
                # Without HMM new-word discovery: a third faster, and the bigrams below
                # already match words jieba does not know.
                for word in segmenter.cut(run, hmm=False):
                    if word not in STOPWORDS_ZH:
                        terms.append("w:" + word)
            terms.extend("c:" + gram for gram in char_bigrams(run))
        elif run not in STOPWORDS_EN:
            plain = run.replace("'", "")
            terms.append("w:" + stem(plain))
            if len(plain) >= 4 and not plain.isdigit():
                terms.extend("t:" + gram for gram in char_trigrams(plain))
    return terms


NEGATIONS = frozenset(
    "不 没 没有 别 未 无 非 不是 不太 不够 不会 不能 并不 毫无 not no never cannot cant dont "
    "didnt doesnt isnt wasnt wont".split()
)


def classifier_features(text: str) -> list[str]:
    """Features of the text classifiers: words (`w`), word bigrams (`b`), the word after a
    negation (`n`) and character 1-3-grams of the whole normalised text (`c`)."""
    normalised = normalise(text)
    tokens: list[str] = []
    for run in runs(normalised):
        if has_chinese(run):
            # HMM new-word discovery off: a third faster, as accurate (the character n-grams
            # below carry words jieba does not know).
            tokens.extend(segmenter.cut(run, hmm=False))
        else:
            tokens.append(stem(run.replace("'", "")))
    features = ["w" + token for token in tokens]
    features.extend(f"b{a} {b}" for a, b in pairwise(tokens))
    features.extend(
        "n" + tokens[i + 1] for i, token in enumerate(tokens[:-1]) if token in NEGATIONS
    )
    for size in (1, 2, 3):
        features.extend("c" + normalised[i : i + size] for i in range(len(normalised) - size + 1))
    return features
