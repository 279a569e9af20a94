from django.urls import path

from tickets.views import files, portal

app_name = "portal"

urlpatterns = [
    path("", portal.status_lookup, name="lookup"),
    path("verify/", portal.status_verify, name="verify"),
    path("home/", portal.status_home, name="home"),
    path("sign-out/", portal.status_sign_out, name="sign-out"),
    path("t/<str:number>/", portal.status_ticket, name="ticket"),
    path("files/<str:token>/", files.attachment_by_link, name="file"),
]
