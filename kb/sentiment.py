"""Customer emotion index (客户情绪指数): a score in -1 (very negative) … 1 (very positive).

Two sources: a trained sentiment model when one is active (its probabilities weighted by the
polarity of each label), else a lexicon. The lexicon scans the text once, longest word first,
so "不满意" is one negative word rather than "不满" plus a positive "满意"; a negation just
before a word flips it ("不太好", "not happy"), an intensifier strengthens it.
"""

import math
import re
from collections.abc import Sequence

from kb.text import normalise

_NEGATIVE_ZH = (
    "差 差劲 太差 很差 垃圾 失望 很失望 生气 愤怒 气愤 太慢 慢死 骗 骗子 骗人 欺骗 恶心 "
    "投诉 不满 不满意 不好 不太好 不太满意 不行 不能用 糟糕 烂 坑 坑人 无语 郁闷 烦 烦死 "
    "后悔 退钱 破损 坏了 损坏 难吃 难用 发霉 变质 过期 异味 脏 太贵 贵 敷衍 态度差 推脱 "
    "拖延 一直没 还没 没人 没有人 不回复 不理 不负责 不专业 欺诈 假货 冒牌 黑心 可恶 气死 "
    "崩溃 着急 急死 离谱 吵 噪音 简陋 陈旧 老旧 一般 慢 错 错误 问题 失败 丢失 丢了 漏发 "
    "少发 错发 缺货 无法 不可以 拒绝 等了 差评 不推荐 再也不"
).split()
_POSITIVE_ZH = (
    "谢谢 感谢 多谢 满意 很满意 非常满意 好评 很好 不错 挺好 真好 好的 棒 很棒 赞 点赞 "
    "喜欢 推荐 值得 方便 快 很快 及时 专业 耐心 热情 周到 贴心 干净 舒适 舒服 划算 实惠 "
    "新鲜 好吃 好用 完美 优秀 解决了 辛苦了 给力 靠谱 放心 开心 高兴 感动 惊喜 下次还 "
    "会再 太好了 好极了"
).split()
_NEGATIVE_EN = (
    "terrible awful angry disappointed disappointing worst scam unacceptable bad poor horrible "
    "useless broken rude slow late never refund complaint frustrated frustrating annoyed upset "
    "wrong damaged missing lost dirty expensive hate ridiculous fraud fake waste problem issue "
    "failed fail error"
).split()
_POSITIVE_EN = (
    "thanks thank great satisfied excellent good happy love helpful perfect quick fast "
    "friendly wonderful awesome amazing nice appreciate pleased recommend fresh solved resolved"
).split()
# Words that contain a lexicon word but carry no feeling (快递 is not 快, 贵公司 is not 贵).
_NEUTRAL_ZH = (
    "快递 快件 快运 尽快 赶快 快点 加快 好像 不好意思 差不多 贵公司 宝贵 贵店 慢慢 问题是 "
    "没关系 不客气 好吗 好不好 行不行 一般来说"
).split()
_NEGATORS_ZH = ("不", "没", "没有", "别", "未", "无", "并不", "不太", "不是", "毫不")
_NEGATORS_EN = {"not", "no", "never", "dont", "didnt", "doesnt", "isnt", "wasnt", "cant", "wont"}
_INTENSIFIERS_ZH = ("非常", "特别", "十分", "太", "超", "极其", "很", "真", "好")
_INTENSIFIERS_EN = {"very", "really", "so", "extremely", "totally", "absolutely"}

_ZH_WORDS = sorted(
    [(w, -1.0) for w in _NEGATIVE_ZH]
    + [(w, 1.0) for w in [*_POSITIVE_ZH, "没问题", "快乐"]]
    + [(w, 0.0) for w in _NEUTRAL_ZH],
    key=lambda pair: -len(pair[0]),
)
_ZH_MAX = max(len(word) for word, _polarity in _ZH_WORDS)
_ZH_LOOKUP = dict(_ZH_WORDS)
_EN_LOOKUP = {**{w: -1.0 for w in _NEGATIVE_EN}, **{w: 1.0 for w in _POSITIVE_EN}}
_EN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


# The lexicon's words, longest first: at each place the regex engine tries them in that order,
# so a scan finds, left to right, the longest lexicon word starting at each position, in C.
_ZH_PATTERN = re.compile("|".join(re.escape(word) for word, _polarity in _ZH_WORDS))


def _zh_hits(text: str) -> list[float]:
    hits: list[float] = []
    for match in _ZH_PATTERN.finditer(text):
        word = match.group()
        polarity = _ZH_LOOKUP[word]
        if polarity == 0.0:
            continue  # a neutral word only keeps its characters from being read otherwise
        start = match.start()
        before = text[max(0, start - 3) : start]
        weight = polarity
        # "不" inside the word itself (不满意) is already part of its polarity.
        if not word.startswith(("不", "没", "无")) and before.endswith(_NEGATORS_ZH):
            weight = -polarity * 0.8
        elif before.endswith(_INTENSIFIERS_ZH):
            weight = polarity * 1.5
        hits.append(weight)
    return hits


def _en_hits(text: str) -> list[float]:
    hits: list[float] = []
    tokens = [token.replace("'", "") for token in _EN_WORD.findall(text)]
    for index, token in enumerate(tokens):
        polarity = _EN_LOOKUP.get(token)
        if polarity is None:
            continue
        previous = tokens[max(0, index - 2) : index]
        if any(word in _NEGATORS_EN for word in previous):
            polarity = -polarity * 0.8
        elif previous and previous[-1] in _INTENSIFIERS_EN:
            polarity *= 1.5
        hits.append(polarity)
    return hits


def lexicon_score(text: str, *, extra_negative: int = 0) -> float:
    """Lexicon sentiment of `text`; `extra_negative` counts other signs of distress (the
    urgency rules that fired). 0.0 when nothing is found."""
    normalised = normalise(text)
    hits = _zh_hits(normalised) + _en_hits(normalised) + [-1.0] * extra_negative
    if not hits:
        return 0.0
    total = sum(hits)
    # Squash: one mild word gives about ±0.5, several strong ones approach ±1.
    return round(max(-1.0, min(1.0, total / (sum(abs(h) for h in hits) + 1.0) * 1.5)), 2)


_POSITIVE_LABELS = {"1", "pos", "positive", "正面", "积极", "好评", "正向", "good"}
_NEGATIVE_LABELS = {"0", "neg", "negative", "负面", "消极", "差评", "负向", "bad", "-1"}
_NEUTRAL_LABELS = {"neutral", "中性", "中立", "2"}


def label_polarities(labels: Sequence[str]) -> dict[str, float]:
    """The polarity (-1 … 1) of each label of a sentiment model.

    Named labels are recognised in Chinese and English (正面/负面, positive/negative/neutral,
    pos/neg); numeric labels are spread evenly from -1 (the lowest, e.g. 0 or 1 star) to 1 (the
    highest); anything else counts as neutral.
    """
    lowered = [str(label).strip().lower() for label in labels]
    numbers: list[float] = []
    for label in lowered:
        try:
            numbers.append(float(label))
        except ValueError:
            break
    else:
        low, high = min(numbers), max(numbers)
        if high > low:
            return {
                original: round(2 * (value - low) / (high - low) - 1, 4)
                for original, value in zip(labels, numbers, strict=True)
            }
    result: dict[str, float] = {}
    for original, label in zip(labels, lowered, strict=True):
        if label in _POSITIVE_LABELS:
            result[original] = 1.0
        elif label in _NEGATIVE_LABELS:
            result[original] = -1.0
        else:
            result[original] = 0.0
    return result


def model_score(probabilities: dict[str, float], polarities: dict[str, float]) -> float:
    """Expected polarity under the model's probabilities."""
    score = sum(share * polarities.get(label, 0.0) for label, share in probabilities.items())
    return round(max(-1.0, min(1.0, score)), 2)


def ticket_score(message_scores: Sequence[float], *, half_life: int = 3) -> float:
    """A ticket's score from its inbound messages' scores, oldest first: a mean that weighs
    recent messages more (a message `half_life` messages older counts half), so a customer
    who calmed down is shown as calmer, and one who is getting angrier as angrier."""
    if not message_scores:
        return 0.0
    weights = [
        math.pow(0.5, (len(message_scores) - 1 - index) / half_life)
        for index in range(len(message_scores))
    ]
    total = sum(w * s for w, s in zip(weights, message_scores, strict=True))
    return round(total / sum(weights), 2)
