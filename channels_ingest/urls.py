from django.urls import path

from channels_ingest import views
from channels_ingest.app.api import AppInboundView
from channels_ingest.email.api import EmailInboundView

api_urlpatterns = [
    path("inbound/app", AppInboundView.as_view(), name="inbound-app"),
    path("inbound/email", EmailInboundView.as_view(), name="inbound-email"),
]

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
]
