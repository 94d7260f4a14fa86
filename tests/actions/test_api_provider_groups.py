"""REST API: provider groups."""

import pytest

from actions.models import ProviderGroup
from tests.actions.api_support import api_url, token_client

pytestmark = pytest.mark.django_db


# --- Provider groups --------------------------------------------------------------------------------


def test_create_a_provider_group(api, provider_factory):
    a, b = provider_factory(), provider_factory()

    response = api.post(
        api_url("provider-groups"),
        {"name": "web-tier", "providers": [a.pk, b.pk], "tag_selector": ["web", " eu "], "max_parallel": 2},
    )

    assert response.status_code == 201, response.data
    assert sorted(response.data["providers"]) == sorted([a.pk, b.pk])
    assert response.data["tag_selector"] == ["eu", "web"]
    assert response.data["max_parallel"] == 2
    group = ProviderGroup.objects.get(pk=response.data["id"])
    assert set(group.providers.all()) == {a, b}


def test_edit_a_provider_group(api, provider_factory, provider_group_factory):
    a, b = provider_factory(), provider_factory()
    group = provider_group_factory(providers=[a], description="old")

    renamed = api.patch(api_url("provider-groups", group), {"name": "db-tier"})
    replaced = api.patch(api_url("provider-groups", group), {"providers": [b.pk]})

    assert renamed.status_code == 200, renamed.data
    assert renamed.data["providers"] == [a.pk]
    assert renamed.data["description"] == "old"
    assert replaced.data["providers"] == [b.pk]
    assert replaced.data["name"] == "db-tier"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "g", "providers": [999999]}, "providers"),
        ({"name": "g", "max_parallel": 0}, "max_parallel"),
        ({"name": "g", "tag_selector": [""]}, "tag_selector"),
        ({"name": "g", "members": []}, "members"),
        ({}, "name"),
    ],
)
def test_create_provider_group_reports_bad_fields(api, body, field):
    response = api.post(api_url("provider-groups"), body)

    assert response.status_code == 400
    assert field in response.data
    assert not ProviderGroup.objects.exists()


def test_list_and_filter_provider_groups(api, provider_factory, provider_group_factory):
    member = provider_factory(name="web-1")
    web = provider_group_factory(name="web-tier", providers=[member])
    provider_group_factory(name="db-tier", description="databases")

    listed = api.get(api_url("provider-groups"))
    by_provider = api.get(api_url("provider-groups"), {"provider": "web-1"})
    by_id = api.get(api_url("provider-groups"), {"provider": member.pk})
    searched = api.get(api_url("provider-groups"), {"search": "databases"})

    assert [row["name"] for row in listed.data["results"]] == ["db-tier", "web-tier"]
    assert [row["id"] for row in by_provider.data["results"]] == [web.pk]
    assert [row["id"] for row in by_id.data["results"]] == [web.pk]
    assert [row["name"] for row in searched.data["results"]] == ["db-tier"]


def test_delete_provider_groups(api, provider_group_factory, action_step_factory):
    unused = provider_group_factory()
    used = provider_group_factory()
    action_step_factory(
        target_kind="group", provider=None, provider_group=used, action__name="Rolling restart"
    )

    assert api.delete(api_url("provider-groups", unused)).status_code == 204
    refused = api.delete(api_url("provider-groups", used))

    assert refused.status_code == 409
    assert refused.data["code"] == "in_use"
    assert refused.data["used_by"] == ["action Rolling restart"]
    assert list(ProviderGroup.objects.all()) == [used]


# --- Query counts -----------------------------------------------------------------------------------
# Token authentication: token + user (1), permissions (2), then count (1), groups (1), their
# providers prefetched (1).
GROUP_LIST_QUERIES = 6


@pytest.mark.parametrize("size", [1, 30])
def test_provider_group_list_runs_a_constant_number_of_queries(
    viewer, provider_factory, provider_group_factory, size, django_assert_num_queries
):
    providers = [provider_factory() for _ in range(3)]
    for _ in range(size):
        provider_group_factory(providers=providers)
    client = token_client(viewer)

    with django_assert_num_queries(GROUP_LIST_QUERIES):
        response = client.get(api_url("provider-groups"))

    assert len(response.data["results"]) == size
    assert all(len(row["providers"]) == 3 for row in response.data["results"])
