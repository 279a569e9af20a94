from django.urls import path

from channels_ingest import views
from channels_ingest.app.api import AppInboundView, ConversationMessagesView, PushTokensView
from channels_ingest.chat import uploads as chat_uploads
from channels_ingest.chat import views as chat_views
from channels_ingest.email.api import EmailInboundView
from channels_ingest.logistics import webhook as logistics
from channels_ingest.phone import webhook as phone
from channels_ingest.sms import gateway, twilio

api_urlpatterns = [
    path("inbound/app", AppInboundView.as_view(), name="inbound-app"),
    path("inbound/email", EmailInboundView.as_view(), name="inbound-email"),
    path(
        "app/conversations/<str:user_id>/messages",
        ConversationMessagesView.as_view(),
        name="app-conversation-messages",
    ),
    path("app/push-tokens", PushTokensView.as_view(), name="app-push-tokens"),
]

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:pk>/reveal/", views.outbox_reveal, name="outbox-reveal"),
    path("chat/demo/", chat_views.demo, name="chat-demo"),
    path("chat/<str:site_key>/upload/", chat_uploads.chat_upload, name="chat-upload"),
    path("webhooks/sms/twilio/", twilio.incoming, name="sms-twilio"),
    path("webhooks/sms/twilio/status/", twilio.status, name="sms-twilio-status"),
    path("webhooks/sms/gateway/<slug:name>/", gateway.incoming, name="sms-gateway"),
    path("webhooks/phone/<slug:pbx>/", phone.phone_event, name="phone-event"),
    path("webhooks/logistics/<slug:source>/", logistics.incoming, name="logistics-event"),
    path("webhooks/phone/<slug:pbx>/<str:key>/", phone.phone_event, name="phone-event-keyed"),
]
