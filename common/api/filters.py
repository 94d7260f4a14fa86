"""Lookups shared by the apps' FilterSets: foreign keys by id or by a human name."""

from django.db.models import Q, QuerySet


def by_id_or_name(qs: QuerySet, value: str, *, id_field: str, name_field: str) -> QuerySet:
    value = value.strip()
    if value.isdigit():
        return qs.filter(**{id_field: int(value)})
    return qs.filter(**{name_field: value})


def by_id_or_username(qs: QuerySet, value: str, *, field: str) -> QuerySet:
    # Usernames may be all digits, so a number matches either.
    value = value.strip()
    match = Q(**{f"{field}__username": value})
    if value.isdigit():
        match |= Q(**{f"{field}_id": int(value)})
    return qs.filter(match)
