"""The template gallery in the admin: every template listed, and an action made from one."""

from django.urls import reverse

from actions.models import Action
from actions.services import (
    action_create_from_template,
)
from actions.template_library import template_list
from common.actor import Actor, Source
from tests.admin_support import flashed

# --- The gallery ---------------------------------------------------------------------------------------


def test_gallery_lists_every_template(client, catalog_admin, local_provider):
    client.force_login(catalog_admin)

    response = client.get(reverse("admin:actions_action_templates"))

    html = response.content.decode()
    for template in template_list():
        assert f'data-template="{template.key}"' in html
        assert template.summary in html
    assert "systemctl restart -- &quot;$service&quot;" in html
    assert "Use template" in html
    assert "There is no provider yet" not in html


def test_gallery_says_when_there_is_nowhere_to_run(client, catalog_admin):
    client.force_login(catalog_admin)
    assert (
        "There is no provider yet" in client.get(reverse("admin:actions_action_templates")).content.decode()
    )


def test_use_template_creates_the_action_and_opens_it(client, catalog_admin, local_provider):
    client.force_login(catalog_admin)

    response = client.post(
        reverse("admin:actions_action_templates"),
        {
            "template": "health-check",
            "health-check-name": "Health of this worker",
            "health-check-target": f"provider:{local_provider.pk}",
        },
    )

    action = Action.objects.get(name="Health of this worker")
    assert response.status_code == 302
    assert response.url == reverse("admin:actions_action_change", args=[action.pk])
    assert action.template_key == "health-check"
    assert action.steps.count() == 4 and {s.provider for s in action.steps.all()} == {local_provider}
    assert "Created the action Health of this worker" in flashed(response)[0]
    page = client.get(response.url)
    assert page.status_code == 200
    assert "Run this action" in page.content.decode()


def test_use_template_errors_show_on_its_card(client, catalog_admin, local_provider):
    action_create_from_template(
        by=Actor.system(source=Source.CLI, label="tests"), template_key="backup", target=local_provider
    )
    client.force_login(catalog_admin)

    taken = client.post(
        reverse("admin:actions_action_templates"),
        {"template": "backup", "backup-name": "Backup", "backup-target": f"provider:{local_provider.pk}"},
    )
    no_target = client.post(
        reverse("admin:actions_action_templates"),
        {"template": "restore", "restore-name": "Restore", "restore-target": ""},
    )

    assert taken.status_code == 200
    card = next(c for c in taken.context["cards"] if c["template"].key == "backup")
    assert card["form"].errors["name"] == ["Action with this Name already exists."]
    assert no_target.status_code == 200
    card = next(c for c in no_target.context["cards"] if c["template"].key == "restore")
    assert "target" in card["form"].errors
    assert Action.objects.count() == 1
