"""Error collection the configuration services share: every problem of one call reported at once,
under the field names the admin forms and API serializers use."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models

User = get_user_model()
Errors = dict[str, list[str]]


def clean_errors(instance: models.Model, *, exclude: list[str] | None = None) -> Errors:
    """full_clean's complaints (fields, clean(), unique and check constraints) as a dict."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        return dict(exc.message_dict)
    return {}


def merge(errors: Errors, more: Errors) -> None:
    for field, messages in more.items():
        errors.setdefault(field, []).extend(messages)


def refuse_if(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


def inactive_names(user_ids: list[int]) -> tuple[list[int], list[str]]:
    """(ids naming nobody, usernames of deactivated accounts) among `user_ids`, in one query."""
    found = {u.pk: u for u in User.objects.filter(pk__in=user_ids)}
    missing = [pk for pk in user_ids if pk not in found]
    inactive = [found[pk].get_username() for pk in user_ids if pk in found and not found[pk].is_active]
    return missing, inactive
