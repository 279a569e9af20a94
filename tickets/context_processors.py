from typing import Any

from django.http import HttpRequest

from kefu.roles import Role, has_role


def roles(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "is_agent": has_role(user, Role.AGENT),
        "is_supervisor": has_role(user, Role.SUPERVISOR),
        "is_admin": has_role(user, Role.ADMIN),
    }
