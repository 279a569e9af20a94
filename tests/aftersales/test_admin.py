"""The admin shows cases and their history read-only, and audits who looked."""

import pytest
from django.contrib.auth.models import User

from aftersales.services import case_review
from tests.aftersales.factories import NOW, make_order, open_case
from tickets.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):  # type: ignore[no-untyped-def]
    user = User.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(user)
    return client


def test_a_case_page_shows_its_steps_read_only_and_is_audited(admin_client):
    case = open_case(make_order())
    case_review(case=case, approve=True, return_address="上海市仓库 3 号门", now=NOW)

    response = admin_client.get(f"/admin/aftersales/case/{case.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "waiting_for_return" in page or "待寄回" in page
    assert 'name="steps-0-note"' not in page  # history is shown, not editable
    assert AuditEntry.objects.filter(
        action="admin_viewed", object_type="aftersales_case", object_id=str(case.pk)
    ).exists()
    assert admin_client.post(f"/admin/aftersales/case/{case.pk}/change/", {}).status_code == 403
    assert admin_client.get("/admin/aftersales/case/add/").status_code == 403
