from django.urls import path

from aftersales.api.orders import OrderPushView

urlpatterns = [
    path("orders", OrderPushView.as_view(), name="api-orders"),
]
