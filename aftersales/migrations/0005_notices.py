import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The texts every shop starts with: (event, channel, language, subject, body). Channel ""
# serves every channel without its own text (email, app, chat); SMS has short ones.
ZH, EN = "zh-hans", "en"
TEXTS = [
    # A case opened.
    (
        "case.submitted",
        "",
        ZH,
        "售后申请已受理：{case_number}",
        "您好，您为订单 {order_number}（{item}）提交的售后申请 {case_number} 已受理，"
        "我们会在 {expected} 内审核。查看进度：{link}",
    ),
    ("case.submitted", "sms", ZH, "", "售后单{case_number}已受理，{expected}内审核。进度：{link}"),
    (
        "case.submitted",
        "",
        EN,
        "After-sales request received: {case_number}",
        "Hello, your after-sales request {case_number} for order {order_number} ({item}) has "
        "been received. We will review it within {expected}. Follow it here: {link}",
    ),
    (
        "case.submitted",
        "sms",
        EN,
        "",
        "Request {case_number} received; review within {expected}. Status: {link}",
    ),
    # Approved (refund only, reship).
    (
        "case.approved",
        "",
        ZH,
        "售后申请已通过：{case_number}",
        "您好，您的售后申请 {case_number}（订单 {order_number}，{item}）已审核通过，"
        "我们会在 {expected} 内为您处理。查看进度：{link}",
    ),
    (
        "case.approved",
        "sms",
        ZH,
        "",
        "售后单{case_number}已通过审核，{expected}内处理。进度：{link}",
    ),
    (
        "case.approved",
        "",
        EN,
        "After-sales request approved: {case_number}",
        "Hello, your after-sales request {case_number} (order {order_number}, {item}) has been "
        "approved. We will handle it within {expected}. Follow it here: {link}",
    ),
    (
        "case.approved",
        "sms",
        EN,
        "",
        "Request {case_number} approved; handled within {expected}. Status: {link}",
    ),
    # Rejected, with the reason.
    (
        "case.rejected",
        "",
        ZH,
        "售后申请未通过：{case_number}",
        "您好，很抱歉，您的售后申请 {case_number}（订单 {order_number}，{item}）未能通过审核。"
        "原因：{reason}。如有疑问请直接回复或联系客服。详情：{link}",
    ),
    ("case.rejected", "sms", ZH, "", "售后单{case_number}未通过：{reason}。详情：{link}"),
    (
        "case.rejected",
        "",
        EN,
        "After-sales request declined: {case_number}",
        "Hello, we are sorry: your after-sales request {case_number} (order {order_number}, "
        "{item}) could not be approved. Reason: {reason}. Reply or contact us with any "
        "question. Details: {link}",
    ),
    ("case.rejected", "sms", EN, "", "Request {case_number} declined: {reason}. Details: {link}"),
    # Approved, waiting for the goods, with the return address.
    (
        "case.waiting_for_return",
        "",
        ZH,
        "请寄回商品：{case_number}",
        "您好，您的售后申请 {case_number} 已通过。请在 {expected} 内将 {item} 寄回：{return_address}。"
        "寄出后请填写快递单号。查看进度：{link}",
    ),
    (
        "case.waiting_for_return",
        "sms",
        ZH,
        "",
        "售后单{case_number}已通过，请寄回至：{return_address}。进度：{link}",
    ),
    (
        "case.waiting_for_return",
        "",
        EN,
        "Please send the goods back: {case_number}",
        "Hello, your request {case_number} has been approved. Please send {item} back within "
        "{expected} to: {return_address}. Tell us the tracking number once it is on its way. "
        "Status: {link}",
    ),
    (
        "case.waiting_for_return",
        "sms",
        EN,
        "",
        "{case_number} approved. Send goods to: {return_address}. Status: {link}",
    ),
    # The customer's parcel is on its way back.
    (
        "case.return_shipped",
        "",
        ZH,
        "已收到您的退货单号：{case_number}",
        "您好，售后单 {case_number} 的退货（{tracking}）已在途中，仓库收到后将尽快处理。"
        "查看进度：{link}",
    ),
    (
        "case.return_shipped",
        "sms",
        ZH,
        "",
        "售后单{case_number}退货在途（{tracking}）。进度：{link}",
    ),
    (
        "case.return_shipped",
        "",
        EN,
        "Your return is on its way: {case_number}",
        "Hello, the return for {case_number} ({tracking}) is on its way. We will handle it as "
        "soon as our warehouse has it. Status: {link}",
    ),
    (
        "case.return_shipped",
        "sms",
        EN,
        "",
        "Return for {case_number} in transit ({tracking}). Status: {link}",
    ),
    # Goods received.
    (
        "case.received",
        "",
        ZH,
        "退货已签收：{case_number}",
        "您好，我们已收到售后单 {case_number} 寄回的 {item}，将在 {expected} 内完成检验。"
        "查看进度：{link}",
    ),
    (
        "case.received",
        "sms",
        ZH,
        "",
        "售后单{case_number}退货已签收，{expected}内检验。进度：{link}",
    ),
    (
        "case.received",
        "",
        EN,
        "We have your return: {case_number}",
        "Hello, we have received {item} for {case_number} and will inspect it within "
        "{expected}. Status: {link}",
    ),
    (
        "case.received",
        "sms",
        EN,
        "",
        "Return for {case_number} received; inspection within {expected}. {link}",
    ),
    # Inspection passed.
    (
        "case.inspected",
        "",
        ZH,
        "检验通过：{case_number}",
        "您好，售后单 {case_number} 的商品 {item} 已检验通过，我们将在 {expected} 内继续处理。"
        "查看进度：{link}",
    ),
    (
        "case.inspected",
        "sms",
        ZH,
        "",
        "售后单{case_number}检验通过，{expected}内处理。进度：{link}",
    ),
    (
        "case.inspected",
        "",
        EN,
        "Inspection passed: {case_number}",
        "Hello, {item} for {case_number} passed inspection. We will carry on within "
        "{expected}. Status: {link}",
    ),
    (
        "case.inspected",
        "sms",
        EN,
        "",
        "{case_number} passed inspection; next step within {expected}. {link}",
    ),
    # Inspection failed.
    (
        "case.inspection_failed",
        "",
        ZH,
        "检验未通过：{case_number}",
        "您好，很抱歉，售后单 {case_number} 的商品 {item} 未通过检验：{reason}。"
        "客服会与您联系商量后续处理。详情：{link}",
    ),
    (
        "case.inspection_failed",
        "sms",
        ZH,
        "",
        "售后单{case_number}检验未通过：{reason}。详情：{link}",
    ),
    (
        "case.inspection_failed",
        "",
        EN,
        "Inspection not passed: {case_number}",
        "Hello, we are sorry: {item} for {case_number} did not pass inspection: {reason}. "
        "We will contact you about what happens next. Details: {link}",
    ),
    (
        "case.inspection_failed",
        "sms",
        EN,
        "",
        "{case_number} failed inspection: {reason}. Details: {link}",
    ),
    # Refunded, with the amount.
    (
        "case.refunded",
        "",
        ZH,
        "退款已完成：{case_number}",
        "您好，售后单 {case_number}（订单 {order_number}）已退款 {amount}，"
        "到账时间以支付渠道为准。查看进度：{link}",
    ),
    (
        "case.refunded",
        "sms",
        ZH,
        "",
        "售后单{case_number}已退款{amount}，到账以支付渠道为准。{link}",
    ),
    (
        "case.refunded",
        "",
        EN,
        "Refund made: {case_number}",
        "Hello, {amount} has been refunded for {case_number} (order {order_number}). When it "
        "reaches you depends on your payment method. Status: {link}",
    ),
    ("case.refunded", "sms", EN, "", "{case_number}: {amount} refunded. Status: {link}"),
    # Replacement shipped, with the tracking number.
    (
        "case.replacement_shipped",
        "",
        ZH,
        "新商品已发出：{case_number}",
        "您好，售后单 {case_number} 的 {item} 已重新发出，快递：{tracking}。查看进度：{link}",
    ),
    (
        "case.replacement_shipped",
        "sms",
        ZH,
        "",
        "售后单{case_number}新品已发出，快递{tracking}。{link}",
    ),
    (
        "case.replacement_shipped",
        "",
        EN,
        "Your replacement is on its way: {case_number}",
        "Hello, the replacement {item} for {case_number} has been shipped: {tracking}. "
        "Status: {link}",
    ),
    (
        "case.replacement_shipped",
        "sms",
        EN,
        "",
        "{case_number}: replacement shipped, {tracking}. {link}",
    ),
    # Repaired.
    (
        "case.repaired",
        "",
        ZH,
        "维修已完成：{case_number}",
        "您好，售后单 {case_number} 的 {item} 已维修完成，将尽快寄回给您。查看进度：{link}",
    ),
    ("case.repaired", "sms", ZH, "", "售后单{case_number}已维修完成，即将寄回。{link}"),
    (
        "case.repaired",
        "",
        EN,
        "Repair done: {case_number}",
        "Hello, {item} for {case_number} has been repaired and will be sent back to you "
        "soon. Status: {link}",
    ),
    ("case.repaired", "sms", EN, "", "{case_number}: repair done, sending it back soon. {link}"),
    # Completed.
    (
        "case.completed",
        "",
        ZH,
        "售后已完成：{case_number}",
        "您好，售后单 {case_number}（订单 {order_number}）已处理完成，感谢您的耐心。详情：{link}",
    ),
    ("case.completed", "sms", ZH, "", "售后单{case_number}已完成，感谢您的耐心。{link}"),
    (
        "case.completed",
        "",
        EN,
        "After-sales case completed: {case_number}",
        "Hello, your after-sales case {case_number} (order {order_number}) is complete. "
        "Thank you for your patience. Details: {link}",
    ),
    (
        "case.completed",
        "sms",
        EN,
        "",
        "{case_number} is complete. Thank you for your patience. {link}",
    ),
    # Cancelled.
    (
        "case.cancelled",
        "",
        ZH,
        "售后单已取消：{case_number}",
        "您好，售后单 {case_number}（订单 {order_number}）已取消。如仍需帮助，请随时联系我们。"
        "详情：{link}",
    ),
    ("case.cancelled", "sms", ZH, "", "售后单{case_number}已取消，如需帮助请联系客服。{link}"),
    (
        "case.cancelled",
        "",
        EN,
        "After-sales case cancelled: {case_number}",
        "Hello, your after-sales case {case_number} (order {order_number}) has been "
        "cancelled. Contact us any time if you still need help. Details: {link}",
    ),
    (
        "case.cancelled",
        "sms",
        EN,
        "",
        "{case_number} cancelled. Contact us if you still need help. {link}",
    ),
    # Ticket: we need something from the customer.
    (
        "ticket.pending_customer",
        "",
        ZH,
        "需要您的补充信息：{ticket_number}",
        "您好，为继续处理您的工单 {ticket_number}，我们需要您补充一些信息，"
        "请查看客服留言并回复：{link}",
    ),
    (
        "ticket.pending_customer",
        "sms",
        ZH,
        "",
        "工单{ticket_number}需要您补充信息，请查看并回复：{link}",
    ),
    (
        "ticket.pending_customer",
        "",
        EN,
        "We need something from you: {ticket_number}",
        "Hello, to carry on with your request {ticket_number} we need a little more from "
        "you. Please read our message and reply: {link}",
    ),
    (
        "ticket.pending_customer",
        "sms",
        EN,
        "",
        "Request {ticket_number}: we need more from you. Please reply: {link}",
    ),
    # Ticket resolved.
    (
        "ticket.resolved",
        "",
        ZH,
        "问题已解决：{ticket_number}",
        "您好，您的工单 {ticket_number} 已处理完成。如问题仍未解决，直接回复即可重新打开。"
        "详情：{link}",
    ),
    ("ticket.resolved", "sms", ZH, "", "工单{ticket_number}已解决，如仍有问题请回复。{link}"),
    (
        "ticket.resolved",
        "",
        EN,
        "Resolved: {ticket_number}",
        "Hello, your request {ticket_number} has been resolved. If anything is still wrong, "
        "just reply and we will pick it up again. Details: {link}",
    ),
    (
        "ticket.resolved",
        "sms",
        EN,
        "",
        "Request {ticket_number} resolved. Reply if anything is still wrong. {link}",
    ),
    # Ticket: an agent answered on the self-service page.
    (
        "ticket.replied",
        "",
        ZH,
        "客服已回复：{ticket_number}",
        "您好，客服已回复您的工单 {ticket_number}，请点击查看：{link}",
    ),
    ("ticket.replied", "sms", ZH, "", "客服已回复工单{ticket_number}，请查看：{link}"),
    (
        "ticket.replied",
        "",
        EN,
        "We have answered: {ticket_number}",
        "Hello, we have answered your request {ticket_number}. Read it here: {link}",
    ),
    ("ticket.replied", "sms", EN, "", "We answered request {ticket_number}. Read it: {link}"),
    # A parcel late or stuck: an apology.
    (
        "logistics_anomaly",
        "",
        ZH,
        "包裹延误致歉：订单 {order_number}",
        "您好，很抱歉，您的订单 {order_number} 的包裹（{tracking}）运输出现延误，"
        "我们已在跟进，预计 {expected}。查看进度：{link}",
    ),
    (
        "logistics_anomaly",
        "sms",
        ZH,
        "",
        "抱歉，订单{order_number}包裹延误，已在跟进，预计{expected}。{link}",
    ),
    (
        "logistics_anomaly",
        "",
        EN,
        "Sorry, your parcel is delayed: order {order_number}",
        "Hello, we are sorry: the parcel of your order {order_number} ({tracking}) is "
        "delayed. We are on it; expected: {expected}. Status: {link}",
    ),
    (
        "logistics_anomaly",
        "sms",
        EN,
        "",
        "Sorry, order {order_number} is delayed. We're on it; expected {expected}. {link}",
    ),
]


def templates_seed(apps, schema_editor):
    NoticeTemplate = apps.get_model("aftersales", "NoticeTemplate")
    NoticeTemplate.objects.bulk_create(
        [
            NoticeTemplate(
                event=event, channel=channel, language=language, subject=subject, body=body
            )
            for event, channel, language, subject, body in TEXTS
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("aftersales", "0004_case_photos"),
        ("tickets", "0009_notices"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Notice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=100, verbose_name="key")),
                (
                    "event",
                    models.CharField(
                        choices=[
                            ("case.submitted", "Case: submitted"),
                            ("case.approved", "Case: approved"),
                            ("case.rejected", "Case: rejected"),
                            ("case.waiting_for_return", "Case: waiting for the return"),
                            ("case.return_shipped", "Case: return sent back"),
                            ("case.received", "Case: goods received"),
                            ("case.inspected", "Case: inspection passed"),
                            ("case.inspection_failed", "Case: inspection failed"),
                            ("case.refunded", "Case: refunded"),
                            ("case.replacement_shipped", "Case: replacement shipped"),
                            ("case.repaired", "Case: repaired"),
                            ("case.completed", "Case: completed"),
                            ("case.cancelled", "Case: cancelled"),
                            ("ticket.pending_customer", "Ticket: we need something from you"),
                            ("ticket.resolved", "Ticket: resolved"),
                            ("ticket.replied", "Ticket: we answered"),
                            ("logistics_anomaly", "Parcel delayed (apology)"),
                        ],
                        max_length=40,
                        verbose_name="event",
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        choices=[
                            ("app", "App"),
                            ("chat", "Web chat"),
                            ("email", "Email"),
                            ("sms", "SMS"),
                            ("phone", "Phone"),
                            ("web", "Self-service"),
                        ],
                        max_length=10,
                        verbose_name="channel",
                    ),
                ),
                ("language", models.CharField(max_length=10, verbose_name="language")),
                (
                    "held_until",
                    models.DateTimeField(blank=True, null=True, verbose_name="held until"),
                ),
                ("created_at", models.DateTimeField(verbose_name="created")),
                (
                    "message",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tickets.message",
                    ),
                ),
                (
                    "ticket",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tickets.ticket",
                    ),
                ),
            ],
            options={
                "verbose_name": "notice",
                "verbose_name_plural": "notices",
                "constraints": [
                    models.UniqueConstraint(fields=("ticket", "key"), name="aftersales_notice_once")
                ],
            },
        ),
        migrations.CreateModel(
            name="NoticeTemplate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "event",
                    models.CharField(
                        choices=[
                            ("case.submitted", "Case: submitted"),
                            ("case.approved", "Case: approved"),
                            ("case.rejected", "Case: rejected"),
                            ("case.waiting_for_return", "Case: waiting for the return"),
                            ("case.return_shipped", "Case: return sent back"),
                            ("case.received", "Case: goods received"),
                            ("case.inspected", "Case: inspection passed"),
                            ("case.inspection_failed", "Case: inspection failed"),
                            ("case.refunded", "Case: refunded"),
                            ("case.replacement_shipped", "Case: replacement shipped"),
                            ("case.repaired", "Case: repaired"),
                            ("case.completed", "Case: completed"),
                            ("case.cancelled", "Case: cancelled"),
                            ("ticket.pending_customer", "Ticket: we need something from you"),
                            ("ticket.resolved", "Ticket: resolved"),
                            ("ticket.replied", "Ticket: we answered"),
                            ("logistics_anomaly", "Parcel delayed (apology)"),
                        ],
                        max_length=40,
                        verbose_name="event",
                    ),
                ),
                (
                    "channel",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "Any channel"),
                            ("sms", "SMS"),
                            ("email", "Email"),
                            ("app", "App"),
                            ("chat", "Web chat"),
                        ],
                        default="",
                        max_length=10,
                        verbose_name="channel",
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        choices=[("zh-hans", "简体中文"), ("en", "English")],
                        max_length=10,
                        verbose_name="language",
                    ),
                ),
                (
                    "subject",
                    models.CharField(
                        blank=True, help_text="Email only.", max_length=200, verbose_name="subject"
                    ),
                ),
                ("body", models.TextField(verbose_name="text")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="updated by",
                    ),
                ),
            ],
            options={
                "verbose_name": "notice template",
                "verbose_name_plural": "notice templates",
                "ordering": ["event", "channel", "language"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("event", "channel", "language"),
                        name="aftersales_notice_template_unique",
                    )
                ],
            },
        ),
        migrations.RunPython(templates_seed, migrations.RunPython.noop),
    ]
