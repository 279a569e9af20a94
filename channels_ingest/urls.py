from django.urls import path

from channels_ingest import views
from channels_ingest.app.api import AppInboundView
from channels_ingest.email.api import EmailInboundView
from channels_ingest.sms import twilio

api_urlpatterns = [
    path("inbound/app", AppInboundView.as_view(), name="inbound-app"),
    path("inbound/email", EmailInboundView.as_view(), name="inbound-email"),
]

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("webhooks/sms/twilio/", twilio.incoming, name="sms-twilio"),
    path("webhooks/sms/twilio/status/", twilio.status, name="sms-twilio-status"),
]
