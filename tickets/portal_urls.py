from django.urls import path

from tickets.views import portal

app_name = "portal"

urlpatterns = [
    path("", portal.status_lookup, name="lookup"),
    path("verify/", portal.status_verify, name="verify"),
    path("t/<str:number>/", portal.status_ticket, name="ticket"),
]
