from django.urls import path

from tickets.views import agent, calls, customers, presence

app_name = "tickets"

urlpatterns = [
    path("", agent.queue, name="queue"),
    path("queue/rows/", agent.queue_rows, name="queue_rows"),
    path("notifications/", agent.notifications, name="notifications"),
    path("presence/", presence.presence, name="presence"),
    path("tickets/<str:number>/", agent.ticket_detail, name="ticket"),
    path("tickets/<str:number>/live/", agent.ticket_live, name="ticket_live"),
    path("tickets/<str:number>/timeline/", agent.ticket_timeline, name="ticket_timeline"),
    path("tickets/<str:number>/reply/", agent.ticket_reply, name="reply"),
    path(
        "tickets/<str:number>/messages/<int:message_id>/retry/",
        agent.message_retry,
        name="message_retry",
    ),
    path("tickets/<str:number>/status/", agent.ticket_status, name="status"),
    path("tickets/<str:number>/take/", agent.ticket_take, name="take"),
    path("tickets/<str:number>/reveal/", agent.customer_reveal, name="reveal"),
    path("tickets/<str:number>/plan/", agent.ticket_plan, name="plan"),
    path("tickets/<str:number>/tier/", agent.ticket_tier, name="tier"),
    path("notifications/<int:pk>/read/", agent.notification_read, name="notification_read"),
    path("messages/<int:pk>/", agent.message_body, name="message_body"),
    path("messages/<int:pk>/reveal/", agent.message_reveal, name="message_reveal"),
    path("attachments/<int:pk>/", agent.attachment_download, name="attachment"),
    path("customers/<int:pk>/", customers.customer_page, name="customer"),
    path("customers/<int:pk>/export/", customers.customer_export_download, name="customer_export"),
    path("customers/<int:pk>/erase/", customers.customer_erase_confirm, name="customer_erase"),
    path("customers/<int:pk>/merge/", customers.customer_merge, name="customer_merge"),
    path("customers/merges/", customers.merges, name="merges"),
    path("customers/merges/<int:pk>/undo/", customers.merge_undo, name="merge_undo"),
    path("calls/<int:pk>/", calls.call_detail, name="call"),
    path("calls/<int:pk>/customer/", calls.call_customer, name="call_customer"),
]
