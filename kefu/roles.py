"""Roles are Django groups; these helpers are the only place that names them.

Shared by every app (the engines too), so this module imports no app.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission


class Role:
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    ALL = (AGENT, SUPERVISOR, ADMIN)
    LABELS = {AGENT: _("Agent"), SUPERVISOR: _("Supervisor"), ADMIN: _("Administrator")}


# Higher roles include the lower ones.
_IMPLIES = {
    Role.AGENT: {Role.AGENT, Role.SUPERVISOR, Role.ADMIN},
    Role.SUPERVISOR: {Role.SUPERVISOR, Role.ADMIN},
    Role.ADMIN: {Role.ADMIN},
}


def user_roles(user: Any) -> set[str]:
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return set()
    if not user.is_active or not hasattr(user, "groups"):
        # Integration tokens authenticate but hold no staff role.
        return set()
    cached = getattr(user, "_kefu_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=Role.ALL).values_list("name", flat=True))
        if user.is_superuser:
            cached.add(Role.ADMIN)
        user._kefu_roles = cached
    return cached


def has_role(user: Any, role: str) -> bool:
    return bool(user_roles(user) & _IMPLIES[role])


def role_required(
    role: str,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Page decorator: anonymous users go to the login page, others without the role get 403."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, role):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class HasRole(BasePermission):
    """DRF permission: `permission_classes = [HasRole.of(Role.AGENT)]`."""

    role = Role.AGENT

    @classmethod
    def of(cls, role: str) -> type["HasRole"]:
        return type(f"HasRole_{role}", (cls,), {"role": role})

    def has_permission(self, request: Any, view: Any) -> bool:
        return has_role(request.user, self.role)
