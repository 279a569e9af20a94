from django.urls import path

from aftersales import logistics_views

app_name = "logistics"

urlpatterns = [
    path("", logistics_views.logistics, name="page"),
    path("rules/<int:pk>/", logistics_views.rule_edit, name="rule"),
]
