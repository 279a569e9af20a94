"""The customer's after-sales pages, under /status/ beside the core's status pages."""

from django.urls import path

from aftersales import portal

app_name = "aftersales_portal"

urlpatterns = [
    path("orders/<str:number>/", portal.order_detail, name="order"),
    path("orders/<str:number>/apply/", portal.order_apply, name="apply"),
    path("cases/<str:number>/", portal.case_detail, name="case"),
    path("cases/<str:number>/cancel/", portal.case_cancel_confirm, name="cancel"),
    path("cases/<str:number>/photos/<int:pk>/", portal.case_photo, name="photo"),
]
