from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from aftersales.api import cases_urls as aftersales_case_api_urls
from aftersales.api import urls as aftersales_api_urls
from analytics import api as analytics_api
from analytics import forecast_urls, report_views
from analytics import views as analytics_views
from channels_ingest import urls as ingest_urls
from feedback.api import urls as feedback_api_urls
from kefu import accounts, two_factor, views
from tickets.api import urls as ticket_api_urls

handler500 = "kefu.views.server_error"

api_v1 = [
    *ingest_urls.api_urlpatterns,
    *ticket_api_urls.urlpatterns,
    *aftersales_api_urls.urlpatterns,
    *aftersales_case_api_urls.urlpatterns,
    *feedback_api_urls.urlpatterns,
    path("orders/daily", analytics_api.OrderVolumeView.as_view(), name="api-orders-daily"),
]

urlpatterns = [
    # First: the webhooks (a burst of SMS replies, every delivery receipt) are found without
    # trying the pages' patterns. Their paths (webhooks/, inbound/, app/, chat/, outbox/)
    # are nobody else's.
    path("", include(ingest_urls.urlpatterns)),
    # Browsers and tools that ask for /favicon.ico without reading the page's icon link.
    path("favicon.ico", views.favicon),
    path("admin/", admin.site.urls),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/login/code/", accounts.login_verify, name="login-verify"),
    path("accounts/two-step/", two_factor.setup, name="two-factor"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/", include(api_v1)),
    path("board/", analytics_views.board, name="board"),
    path("board/tv/", analytics_views.board_tv, name="board-tv"),
    path("board/live/", analytics_views.board_live, name="board-live"),
    path("board/counters/", analytics_views.board_counters, name="board-counters"),
    path("reports/", report_views.overview, name="reports"),
    path("reports/export.<str:fmt>", report_views.export, name="reports-export"),
    path("reports/tickets/<str:metric>/", report_views.tickets, name="reports-tickets"),
    path("reports/forecast/", include(forecast_urls.forecast_patterns)),
    path("reports/staffing/", include(forecast_urls.staffing_patterns)),
    path("reports/", include("analytics.page_urls")),
    # Before the core's status pages: after-sales adds its own under the same prefix.
    path("status/", include("aftersales.portal_urls")),
    path("status/", include("tickets.portal_urls")),
    path("sla/", include("sla.urls")),
    # The after-sales pages with a fixed prefix first: a case's own page is any other name.
    path("aftersales/orders/", include("aftersales.order_urls")),
    path("aftersales/notices/", include("aftersales.notice_urls")),
    path("aftersales/logistics/", include("aftersales.logistics_urls")),
    path("aftersales/", include("aftersales.urls")),
    path("quality/", include("feedback.urls")),
    path("complaints/", include("feedback.complaint_urls")),
    path("feedback/", include("feedback.survey_urls")),
    path("kb/", include("kb.urls")),
    path("", include("tickets.urls")),
]
