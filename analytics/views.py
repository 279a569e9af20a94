from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from analytics.selectors import board_counters as counters
from tickets.roles import Role, role_required


@require_GET
@role_required(Role.SUPERVISOR)
def board(request: HttpRequest) -> HttpResponse:
    return render(request, "board/board.html", {"counters": counters()})


@require_GET
@role_required(Role.SUPERVISOR)
def board_counters(request: HttpRequest) -> JsonResponse:
    return JsonResponse(counters())
