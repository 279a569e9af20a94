from django.urls import path

from aftersales import agent_views

app_name = "aftersales"

urlpatterns = [
    path("", agent_views.case_list, name="cases"),
    path("<str:number>/", agent_views.case_page, name="case"),
    path("<str:number>/act/<slug:action>/", agent_views.case_act, name="case_act"),
    path("<str:number>/photos/<int:pk>/", agent_views.case_photo, name="case_photo"),
    path(
        "open/<str:ticket_number>/",
        agent_views.case_open_from_ticket,
        name="case_open",
    ),
]
