"""The outbox's admin (common/admin/outbox.py): read-only rows, and an action that publishes the
selected messages now."""

from unittest import mock

import pytest
from django.conf import settings
from django.contrib.admin import AdminSite
from django.test import RequestFactory

from common.admin.outbox import OutboxMessageAdmin
from common.models import OutboxMessage
from common.outbox import registered_task
from tests.common.test_tasks import DEAD_BROKER, TASK
from tests.conftest import celery_broker

pytestmark = pytest.mark.django_db


@pytest.fixture
def model_admin():
    return OutboxMessageAdmin(OutboxMessage, AdminSite())


@pytest.fixture
def request_by(user_factory):
    def make(**kwargs):
        request = RequestFactory().post("/")
        request.user = user_factory(**kwargs)
        return request

    return make


def test_rows_are_only_read_and_published(model_admin, request_by):
    superuser = request_by(is_superuser=True, is_staff=True)
    assert not model_admin.has_add_permission(superuser)
    assert not model_admin.has_change_permission(superuser)
    assert model_admin.has_publish_permission(superuser)
    assert not model_admin.has_publish_permission(request_by(is_staff=True))


def test_publish_now_sends_the_selected_messages(model_admin, request_by, monkeypatch):
    sent = []
    monkeypatch.setattr(registered_task(TASK), "apply_async", lambda **kw: sent.append(kw["kwargs"]))
    chosen = OutboxMessage.objects.create(task_name=TASK, kwargs={"incident_id": 1})
    left = OutboxMessage.objects.create(task_name=TASK, kwargs={"incident_id": 2})

    with mock.patch.object(model_admin, "message_user") as said:
        model_admin.publish_now(request_by(is_superuser=True), OutboxMessage.objects.filter(pk=chosen.pk))

    assert sent == [{"incident_id": 1}]
    assert list(OutboxMessage.objects.all()) == [left]
    assert said.call_args.args[1] == "Published 1 message(s)."


def test_publish_now_with_the_broker_still_down_keeps_the_row(model_admin, request_by):
    kept = OutboxMessage.objects.create(task_name=TASK, kwargs={"incident_id": 1}, attempts=1)

    with (
        celery_broker(DEAD_BROKER, settings.BROKER_FAIL_FAST),
        mock.patch.object(model_admin, "message_user") as said,
    ):
        model_admin.publish_now(request_by(is_superuser=True), OutboxMessage.objects.all())

    kept.refresh_from_db()
    assert kept.attempts == 2 and kept.last_error
    assert said.call_args.args[1].startswith("Published 0 of 1 message(s): the broker refused one")
