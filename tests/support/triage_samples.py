"""A tiny labelled set for training the category and sentiment models in tests."""

CATEGORY_TEXTS = [
    "快递三天了还没到", "物流一直不更新", "配送太慢了包裹还没收到", "骑手还没送到", "快递丢了",
    "我要退货退款", "申请退款怎么还没到账", "商品破损想换货", "质量问题要退钱", "退款什么时候到",
    "app登录不上去", "密码忘了怎么找回", "支付失败一直报错", "验证码收不到", "应用一打开就闪退",
]  # fmt: skip
CATEGORY_LABELS = ["delivery"] * 5 + ["refund"] * 5 + ["account"] * 5
SENTIMENT_TEXTS = [
    "很满意，谢谢", "服务很好", "送货很快，不错", "新鲜好吃", "客服很耐心",
    "太差了", "非常失望", "垃圾服务", "慢死了，生气", "再也不买了",
]  # fmt: skip
SENTIMENT_LABELS = ["1"] * 5 + ["0"] * 5
