"""Words customers use for the same thing, for expanding search queries.

Customers ask "钱什么时候退回来" where the FAQ says "退款多久到账": no shared word. A query is
expanded with the other members of every group it touches (at a lower weight than its own
words), which bridges the commonest of these gaps in retail customer service. Chinese members
match as substrings of the query, English ones as whole words.
"""

import re
from functools import lru_cache

from kb.text import has_chinese, normalise

GROUPS: list[tuple[str, ...]] = [
    # money back
    ("退款", "退钱", "钱退", "返款", "退费", "退回来", "到账"),
    ("refund", "money back", "reimburse", "repay", "returned money"),
    # returning goods
    ("退货", "退掉", "不想要", "寄回", "退回去", "退换"),
    ("return", "send back", "ship back"),
    ("换货", "换一个", "换个", "调换", "更换", "尺码不合适"),
    ("exchange", "swap", "replace", "replacement"),
    # time
    ("多久", "几天", "多长时间", "什么时候", "啥时候", "何时", "多快", "几号"),
    ("how long", "when", "how soon", "how many days"),
    # delivery and parcels
    ("快递", "包裹", "物流", "配送", "送货", "运输", "快件", "送到", "送达", "寄出"),
    ("delivery", "deliver", "parcel", "package", "shipment", "shipping", "courier", "ship"),
    ("单号", "运单", "快递单号", "物流单号", "物流信息", "到哪了", "进度"),
    ("tracking", "track", "where is", "status"),
    ("签收", "显示送达", "已送达", "没拿到"),
    # orders
    ("取消", "撤销", "撤回", "不要了", "下错"),
    ("cancel", "stop", "by mistake", "call off"),
    ("地址", "收货地址", "送货地址", "地址填错"),
    ("address", "location", "where my order is delivered"),
    ("修改", "更改", "改成", "改一下", "换成"),
    ("change", "update", "modify", "edit", "wrong"),
    # money matters
    ("发票", "开票", "报销", "收据", "增值税"),
    ("invoice", "receipt", "fapiao", "vat"),
    ("运费", "邮费", "包邮", "免邮", "免运费", "配送费"),
    ("shipping fee", "postage", "delivery charge", "shipping cost", "free shipping"),
    ("支付", "付款", "付钱", "结账", "买单", "扣款", "扣了"),
    ("pay", "payment", "checkout", "charged"),
    ("支付宝", "微信支付", "云闪付", "货到付款", "支付方式"),
    ("alipay", "wechat pay", "unionpay", "cash on delivery", "credit card"),
    ("优惠券", "满减券", "红包", "折扣券", "券"),
    ("coupon", "voucher", "discount code", "promo code"),
    ("积分", "抵扣", "兑换"),
    ("礼品卡", "购物卡", "储值卡"),
    ("gift card", "store card"),
    ("价保", "价格保护", "降价", "差价", "买贵了"),
    ("price protection", "price drop", "price difference"),
    # account
    ("密码", "登录密码", "忘记密码", "不记得", "忘了", "找回"),
    ("password", "forgot", "reset", "locked out", "log in", "login"),
    ("验证码", "验证短信", "短信码", "校验码"),
    ("verification code", "sms code", "otp"),
    ("注销", "销户", "删除账号", "删除账户"),
    ("delete account", "close account", "remove account"),
    ("手机号", "手机号码", "换号", "绑定手机"),
    ("会员", "vip", "开通会员"),
    ("member", "membership", "vip"),
    # quality of fresh food
    ("不新鲜", "坏了", "烂", "腐烂", "变质", "蔫", "发霉", "有味道", "臭"),
    ("spoiled", "rotten", "mushy", "wilted", "mouldy", "moldy", "smells", "stale", "bad"),
    ("少发", "漏发", "少了", "缺件", "没发全", "少件"),
    ("missing", "not included", "short"),
    ("冷链", "冰袋", "保温", "冷冻", "冷藏", "化掉", "冰"),
    ("cold chain", "frozen", "ice pack", "chilled"),
    ("预售", "预定", "预订", "定金", "尾款"),
    ("pre-order", "preorder", "presale", "deposit"),
    # product facts
    ("储存", "保存", "存放", "保鲜", "冷藏"),
    ("store", "storage", "keep", "keep fresh"),
    ("保质期", "能放几天", "放多久", "多久过期", "不坏"),
    ("shelf life", "how long does", "last", "expiry", "best before"),
    ("产地", "哪里产", "哪里来", "原产地", "来自"),
    ("origin", "come from", "comes from", "where is it from", "grown"),
    ("规格", "大包装", "小包装", "家庭装", "包装", "分量"),
    ("size", "sizes", "pack", "family pack", "portion"),
    ("做法", "怎么做", "菜谱", "好吃", "烹饪", "怎么吃"),
    ("cook", "recipe", "recipes", "prepare"),
    ("营养", "营养成分", "营养信息", "热量", "卡路里"),
    ("有机", "有机认证", "绿色食品"),
    ("organic", "certified organic"),
    ("补货", "到货", "再有", "卖完", "缺货", "没货", "到货提醒"),
    ("restock", "restocked", "back in stock", "sold out", "out of stock"),
    ("冷冻", "冻", "冰箱", "解冻"),
    ("freeze", "frozen", "freezer", "thaw"),
    ("孩子", "小孩", "儿童", "宝宝", "婴儿"),
    ("children", "kids", "child", "baby", "toddler"),
    ("涨价", "变贵", "贵了", "价格", "降价"),
    ("price", "expensive", "cost", "cheaper"),
    ("过敏", "过敏原", "配料"),
    ("allergen", "allergens", "allergy", "allergic", "ingredients"),
    # the app, service
    ("闪退", "崩溃", "打不开", "退出", "卡死", "进不去"),
    ("crash", "crashes", "freezes", "won't open", "not opening"),
    ("客服", "人工", "工作时间", "上班", "有人"),
    ("customer service", "support hours", "opening hours", "agent"),
    ("评价", "评论", "晒单", "打分", "好评", "差评"),
    ("review", "rating", "rate", "feedback"),
    ("配送范围", "偏远", "县城", "能送", "送不送", "哪些城市"),
    ("预约", "指定时间", "时间段", "时段", "送达时间"),
]

EXPANSION_WEIGHT = 0.5


@lru_cache(maxsize=1)
def _compiled() -> list[tuple[tuple[str, ...], list[str], re.Pattern[str] | None]]:
    result = []
    for group in GROUPS:
        members = tuple(normalise(member) for member in group)
        chinese = [m for m in members if has_chinese(m)]
        english = [m for m in members if not has_chinese(m)]
        pattern = (
            re.compile(r"\b(?:" + "|".join(re.escape(m) for m in english) + r")\b")
            if english
            else None
        )
        result.append((members, chinese, pattern))
    return result


def expansions(query: str) -> list[str]:
    """Members of the groups `query` touches that it does not contain itself."""
    normalised = normalise(query)
    found: list[str] = []
    for members, chinese, pattern in _compiled():
        touched = any(member in normalised for member in chinese) or (
            pattern is not None and pattern.search(normalised) is not None
        )
        if touched:
            found.extend(m for m in members if m not in normalised and m not in found)
    return found
