from django.urls import path

from aftersales import order_views

app_name = "aftersales_orders"

urlpatterns = [
    path(
        "tickets/<str:number>/order/",
        order_views.ticket_order_link_view,
        name="ticket_order_link",
    ),
]
