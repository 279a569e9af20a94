from django.urls import path

from tickets.api import views

urlpatterns = [
    path("tickets/", views.QueueView.as_view(), name="api-queue"),
    path("tickets/<str:number>/", views.TicketDetailView.as_view(), name="api-ticket"),
    path(
        "tickets/<str:number>/status/",
        views.TicketStatusView.as_view(),
        name="api-ticket-status",
    ),
]
