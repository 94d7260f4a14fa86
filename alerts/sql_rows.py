"""Model instances from rows a hand-written statement returned (the webhook's source lookup, the
ingest upsert's RETURNING), with the same converters the ORM applies (JSON, encrypted fields), so
callers get the objects a queryset would have given, without compiling a query per request."""

from collections.abc import Iterable, Sequence
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Model

M = TypeVar("M", bound=Model)


def columns_sql(model: type[Model], table: str = "") -> str:
    """The model's concrete columns, in field order, for a SELECT list or RETURNING clause."""
    prefix = f"{table}." if table else ""
    return ", ".join(f'{prefix}"{field.column}"' for field in model._meta.concrete_fields)


def models_from_rows(model: type[M], rows: Iterable[Sequence]) -> list[M]:
    """Instances of `model` from rows holding its concrete columns in field order (columns_sql)."""
    fields = model._meta.concrete_fields
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if found:
            converters.append((index, found, column))
    names = [field.attname for field in fields]
    instances = []
    for row in rows:
        values = list(row)
        for index, found, column in converters:
            for converter in found:
                values[index] = converter(values[index], column, connection)
        instances.append(model.from_db(DEFAULT_DB_ALIAS, names, values))
    return instances
