"""Model instances from rows a hand-written statement returned (the webhook's source lookup, the
ingest upsert's RETURNING), with the same converters the ORM applies (JSON, encrypted fields), so
callers get the objects a queryset would have given, without compiling a query per request."""

import weakref
from collections.abc import Iterable, Sequence
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

M = TypeVar("M", bound=Model)


def columns_sql(model: type[Model], table: str = "") -> str:
    """The model's concrete columns, in field order, for a SELECT list or RETURNING clause."""
    prefix = f"{table}." if table else ""
    return ", ".join(f'{prefix}"{field.column}"' for field in model._meta.concrete_fields)


def models_from_rows(model: type[M], rows: Iterable[Sequence]) -> list[M]:
    """Instances of `model` from rows holding its concrete columns in field order (columns_sql)."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    names, converters = _converters(wrapper, model)
    instances = []
    for row in rows:
        values = list(row)
        for index, found, column in converters:
            for converter in found:
                values[index] = converter(values[index], column, wrapper)
        instances.append(model.from_db(DEFAULT_DB_ALIAS, names, values))
    return instances


# Per connection (its converters may be its own operations' methods) and model: the webhook builds
# its source from a row on every request, and collecting them was most of that (the profile).
_found: "weakref.WeakKeyDictionary[BaseDatabaseWrapper, dict]" = weakref.WeakKeyDictionary()


def _converters(wrapper: BaseDatabaseWrapper, model: type[Model]) -> tuple[list[str], list[tuple]]:
    by_model = _found.get(wrapper)
    if by_model is None:
        by_model = _found[wrapper] = {}
    cached = by_model.get(model)
    if cached is None:
        fields = model._meta.concrete_fields
        converters = []
        for index, field in enumerate(fields):
            column = field.get_col(model._meta.db_table)
            found = wrapper.ops.get_db_converters(column) + field.get_db_converters(wrapper)
            if found:
                converters.append((index, found, column))
        cached = by_model[model] = ([field.attname for field in fields], converters)
    return cached


def related_select(model: type[Model], related: Sequence[str], alias: str) -> tuple[str, str]:
    """A SELECT list and joins for rows of `model` (as `alias`) with the rows its foreign keys
    `related` point to, as select_related reads them: its columns, then each one's (r0, r1, ...),
    joined (LEFT JOIN where the key may be NULL). `models_with_related` makes the objects."""
    columns, joins = [columns_sql(model, alias)], []
    for n, name in enumerate(related):
        field = model._meta.get_field(name)
        target = field.related_model
        kind = "LEFT JOIN" if field.null else "JOIN"
        on = f'r{n}."{field.target_field.column}" = {alias}."{field.column}"'
        joins.append(f'{kind} "{target._meta.db_table}" r{n} ON {on}')
        columns.append(columns_sql(target, f"r{n}"))
    return ", ".join(columns), " ".join(joins)


def models_with_related(model: type[M], related: Sequence[str], rows: Sequence[Sequence]) -> list[M]:
    """Instances of `model` from rows of `related_select`'s columns, each related object loaded as
    select_related loads it (None for a NULL key). Columns after those are left for the caller."""
    start = len(model._meta.concrete_fields)
    instances = models_from_rows(model, [row[:start] for row in rows])
    for name in related:
        field = model._meta.get_field(name)
        target = field.related_model
        fields = target._meta.concrete_fields
        at, end = start + fields.index(target._meta.pk), start + len(fields)
        loaded = iter(models_from_rows(target, [row[start:end] for row in rows if row[at] is not None]))
        for instance, row in zip(instances, rows, strict=True):
            field.set_cached_value(instance, None if row[at] is None else next(loaded))
        start = end
    return instances
