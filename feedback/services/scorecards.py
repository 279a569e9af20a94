"""Scorecards and their versions. A version is never edited: a change is a new version, and
the reviews scored with an old one keep it."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from feedback.models import ItemGroup, Scorecard, ScorecardItem, ScorecardVersion


@dataclass(frozen=True)
class ItemSpec:
    group: str
    name_zh: str
    name_en: str
    weight: int
    description: str = ""
    is_critical: bool = False


def _check(items: Sequence[ItemSpec]) -> None:
    if not items:
        raise ValidationError(_("A scorecard needs at least one item."))
    if not any(not item.is_critical and item.weight > 0 for item in items):
        raise ValidationError(
            _("A scorecard needs at least one weighted item that is not critical.")
        )
    for item in items:
        if item.group not in ItemGroup.values:
            raise ValidationError(_("Unknown item group: %(group)s") % {"group": item.group})
        if not (item.name_zh.strip() or item.name_en.strip()):
            raise ValidationError(_("Every item needs a name."))


def scorecard_create(*, name: str, items: Sequence[ItemSpec], actor: User | None) -> Scorecard:
    """A new scorecard with its first version."""
    _check(items)
    with transaction.atomic():
        scorecard = Scorecard.objects.create(name=name)
        scorecard_version_add(scorecard=scorecard, items=items, actor=actor)
    return scorecard


def scorecard_version_add(
    *, scorecard: Scorecard, items: Sequence[ItemSpec], actor: User | None
) -> ScorecardVersion:
    """The scorecard's next version with these items. Two editors saving at once get two
    versions (the scorecard row is locked while the number is drawn)."""
    _check(items)
    with transaction.atomic():
        Scorecard.objects.select_for_update().filter(pk=scorecard.pk).first()
        last = scorecard.versions.aggregate(last=Max("number"))["last"] or 0
        version = ScorecardVersion.objects.create(
            scorecard=scorecard, number=last + 1, created_by=actor
        )
        ScorecardItem.objects.bulk_create(
            ScorecardItem(
                version=version,
                position=position,
                group=item.group,
                name_zh=item.name_zh.strip(),
                name_en=item.name_en.strip(),
                description=item.description.strip(),
                weight=item.weight,
                is_critical=item.is_critical,
            )
            for position, item in enumerate(items)
        )
    return version


def scorecard_current(scorecard: Scorecard) -> ScorecardVersion:
    version = scorecard.versions.order_by("-number").first()
    if version is None:
        raise ScorecardVersion.DoesNotExist(scorecard.name)
    return version


# The stock scorecard (质检评分表), in Chinese and English; `scorecard_default` makes it once.
DEFAULT_NAME = "标准质检 Standard"
DEFAULT_ITEMS = (
    ItemSpec(
        ItemGroup.GREETING,
        "规范问候",
        "Proper greeting",
        10,
        "首次回复有问候并自报姓名 / Greets and gives their name in the first reply",
    ),
    ItemSpec(
        ItemGroup.GREETING,
        "礼貌结束",
        "Polite closing",
        5,
        "结束时确认问题已解决并致谢 / Checks the issue is solved and thanks the customer",
    ),
    ItemSpec(
        ItemGroup.ACCURACY,
        "信息准确",
        "Accurate information",
        20,
        "政策、价格、时效说得对 / Policies, prices and times stated correctly",
    ),
    ItemSpec(
        ItemGroup.ACCURACY,
        "核实订单",
        "Order checked",
        10,
        "先核实订单和商品再答复 / Checks the order and the goods before answering",
    ),
    ItemSpec(
        ItemGroup.EMPATHY,
        "共情安抚",
        "Empathy",
        15,
        "回应客户的情绪，不推诿 / Acknowledges the customer's feelings; no passing the buck",
    ),
    ItemSpec(
        ItemGroup.EMPATHY, "及时回应", "Timely replies", 10, "没有长时间沉默 / No long silences"
    ),
    ItemSpec(
        ItemGroup.COMPLIANCE,
        "规范用语",
        "Appropriate wording",
        10,
        "无禁用语 / No forbidden phrases",
    ),
    ItemSpec(
        ItemGroup.RESOLUTION,
        "问题解决",
        "Issue resolved",
        20,
        "给出方案并跟进到底 / Offers a solution and follows it through",
    ),
    ItemSpec(
        ItemGroup.COMPLIANCE,
        "泄露客户个人信息",
        "No personal data revealed",
        0,
        "未向他人透露客户的电话、地址、身份证号等 / "
        "Never tells anyone else the customer's phone, address, ID number…",
        is_critical=True,
    ),
    ItemSpec(
        ItemGroup.COMPLIANCE,
        "违规承诺",
        "No promise against policy",
        0,
        "未承诺政策不允许的赔偿或时效 / "
        "Never promises compensation or times the policy does not allow",
        is_critical=True,
    ),
)


def scorecard_default(*, actor: User | None = None) -> Scorecard:
    """The stock scorecard, made with its first version if it does not exist yet."""
    found = Scorecard.objects.filter(name=DEFAULT_NAME).first()
    if found is not None:
        return found
    return scorecard_create(name=DEFAULT_NAME, items=DEFAULT_ITEMS, actor=actor)
