from django.urls import path

from channels_ingest import views
from channels_ingest.app.api import AppInboundView

api_urlpatterns = [
    path("inbound/app", AppInboundView.as_view(), name="inbound-app"),
]

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
]
