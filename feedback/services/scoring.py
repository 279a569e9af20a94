"""A review's score, and how far two reviews of the same ticket agree.

**Score** (0–100, one decimal): over the items that are not critical and not rated "not
applicable", `100 × Σ weight × share / Σ weight`, where a rating's share is 1 (met),
0.5 (partly met) or 0 (missed). No such item (all not applicable): 100. A critical item
carries no weight: it is met or missed, and one missed critical item makes the score 0 and
the review failed.

**Agreement** of two reviews: the share of the items both rated (matched by item, or by the
item's Chinese name across versions) that got the same rating, and the difference of the
two scores.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from feedback.models import RATING_SHARE, Rating, Review, ScorecardItem


@dataclass(frozen=True)
class Score:
    value: Decimal
    is_failed: bool


def score_of(ratings: Iterable[tuple[ScorecardItem, str]]) -> Score:
    earned = 0.0
    possible = 0
    for item, rating in ratings:
        if item.is_critical:
            if rating == Rating.MISSED:
                return Score(value=Decimal("0.0"), is_failed=True)
            continue
        if rating == Rating.NOT_APPLICABLE:
            continue
        earned += item.weight * RATING_SHARE[Rating(rating)]
        possible += item.weight
    if possible == 0:
        return Score(value=Decimal("100.0"), is_failed=False)
    value = Decimal(str(100 * earned / possible)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return Score(value=value, is_failed=False)


@dataclass(frozen=True)
class Agreement:
    same: int
    compared: int
    score_difference: Decimal

    @property
    def share(self) -> float:
        """0 … 1; 0 when no item could be compared."""
        return self.same / self.compared if self.compared else 0.0

    @property
    def percent(self) -> int:
        return round(self.share * 100)


def agreement_of(first: Review, second: Review) -> Agreement:
    def ratings(review: Review) -> dict[object, str]:
        keyed: dict[object, str] = {}
        for row in review.items.all():
            key: object = row.item_id if first.version_id == second.version_id else row.item.name_zh
            keyed[key] = row.rating
        return keyed

    one, other = ratings(first), ratings(second)
    compared = [key for key in one if key in other]
    same = sum(1 for key in compared if one[key] == other[key])
    return Agreement(
        same=same, compared=len(compared), score_difference=abs(first.score - second.score)
    )
