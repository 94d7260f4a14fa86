"""Django's health check of persistent connections (CONN_HEALTH_CHECKS) costs a `SELECT 1` round trip
before a connection's first statement in each request. A hot path whose first statement is safe to
run twice can take the check over: that statement runs without it, and if the connection turns out
dead (the server restarted, failed over or closed it while idle), it is closed and the statement run
again on a new one."""

from django.db import connection


def health_check_take_over() -> bool:
    """Skip the health check due on this request's connection. True if one was due: the caller's
    first statement then stands in for it, and on OperationalError or InterfaceError the caller
    closes the connection (`connection.close()`) and runs it once more."""
    due = (
        connection.health_check_enabled
        and not connection.health_check_done
        and connection.connection is not None
        and not connection.in_atomic_block
    )
    if due:
        connection.health_check_done = True
    return due
