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
