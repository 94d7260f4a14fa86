"""Many rows written with one statement and one parameter on PostgreSQL: the rows as one JSON
document, made into a record set by jsonb_to_recordset in the database.

bulk_create / bulk_update bind one array per column (UNNEST), or a CASE per field and row; for a
batch of alerts the arrays' dumping (psycopg escaping each text element with a regex) and Django's
compiling of the INSERT cost more than the database's work. One json.dumps of the rows is a
fraction of it. PostgreSQL only: callers take the ORM's path elsewhere.

Only plain fields (text, numbers, booleans, date-times, JSON without a custom encoder, foreign
keys): a field whose value the ORM would convert otherwise (an encrypted one) is refused."""

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import Field, Model

PLAIN = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "DateTimeField",
    "ForeignKey",
    "IntegerField",
    "JSONField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}


def _default(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()  # Microseconds kept (DjangoJSONEncoder would cut them to ms).
    raise TypeError(f"{type(value).__name__} is not written as JSON here")


def _fields(model: type[Model], names: Sequence[str]) -> list[Field]:
    fields = [model._meta.get_field(name) for name in names]
    for field in fields:
        kind = field.get_internal_type()
        if type(field).__module__.split(".")[0] != "django" or kind not in PLAIN:
            raise ValueError(f"{model.__name__}.{field.name} ({kind}) is not a plain field")
        if kind == "JSONField" and field.encoder is not None:
            raise ValueError(f"{model.__name__}.{field.name} has an encoder of its own")
    return fields


def _recordset(fields: list[Field], alias: str = "") -> str:
    """jsonb_to_recordset of the %s parameter, with these fields' columns (their types here)."""
    columns = ", ".join(f'"{f.column}" {_type(f)}' for f in fields)
    return f"jsonb_to_recordset(%s::jsonb) AS {alias}({columns})"


def _type(field: Field) -> str:
    return field.target_field.rel_db_type(connection) if field.is_relation else field.db_type(connection)


def _document(objs: Sequence[Model], fields: list[Field]) -> str:
    return json.dumps(
        [{f.column: getattr(obj, f.attname) for f in fields} for obj in objs],
        default=_default,
        separators=(",", ":"),
    )


def rows_update(objs: Sequence[Model], names: Sequence[str]) -> int:
    """UPDATE these rows' `names` fields to the instances' values, by primary key; one statement.
    Returns how many rows it updated."""
    if not objs:
        return 0
    model = type(objs[0])
    pk = model._meta.pk
    fields = _fields(model, [pk.name, *names])
    table = model._meta.db_table
    sets = ", ".join(f'"{f.column}" = v."{f.column}"' for f in fields[1:])
    sql = (
        f'UPDATE "{table}" SET {sets} FROM {_recordset(fields, "v")} '
        f'WHERE "{table}"."{pk.column}" = v."{pk.column}"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_document(objs, fields)])
        return cursor.rowcount


def rows_insert(objs: Sequence[Model]) -> None:
    """INSERT these new instances (every concrete field but the primary key), one statement; sets
    each instance's primary key from RETURNING, in order (the rows are inserted in order)."""
    if not objs:
        return
    model = type(objs[0])
    pk = model._meta.pk
    fields = _fields(model, [f.name for f in model._meta.concrete_fields if f is not pk])
    table = model._meta.db_table
    columns = ", ".join(f'"{f.column}"' for f in fields)
    sql = (
        f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM ROWS FROM ({_recordset(fields)}) '
        f'WITH ORDINALITY AS v({columns}, "_n") ORDER BY "_n" RETURNING "{pk.column}"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_document(objs, fields)])
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk_value in zip(objs, ids, strict=True):
        obj.pk = pk_value
        obj._state.adding = False
        obj._state.db = connection.alias
