"""One way to change a row's FSM state: lock the row, refuse a lost race, check the transition and
its permission, apply it and record it, all in one transaction (DESIGN.md, rules 2 and 3)."""

from collections.abc import Callable, Sequence
from typing import TypeVar

from django.db import models, transaction
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from common.actor import Actor
from common.exceptions import ApplicationError, ConflictError, PermissionDeniedError

M = TypeVar("M", bound=models.Model)

CONCURRENT = "The object was changed by someone else. Reload and try again."


def row_lock(*, instance: M, related: Sequence[str] = (), stale: Callable[[M], str] | None = None) -> M:
    """Reload `instance` under a lock of its own row, with `related` joined. of=("self",): on
    PostgreSQL, FOR UPDATE on a join would also lock the joined rows (the incident of every post-mortem,
    the priority every incident shares), and a sweeper skipping locked rows would skip all of theirs.

    With `stale`, a status other than the caller's copy's is a lost race: ConflictError with the
    message `stale(locked)` and the current status."""
    locked = (
        type(instance)
        ._default_manager.select_for_update(of=("self",))
        .select_related(*related)
        .get(pk=instance.pk)
    )
    if stale is not None and locked.status != instance.status:
        raise ConflictError(stale(locked), extra={"status": locked.status})
    return locked


def locked_transition(
    *,
    instance: M,
    name: str,
    by: Actor,
    stale: Callable[[M], str],
    refused: Callable[[M], ApplicationError],
    denied: str,
    record: Callable[[M, str], None],
    related: Sequence[str] = (),
    before: Callable[[M], None] | None = None,
    apply: Callable[[M], None] | None = None,
    conflict: str = CONCURRENT,
) -> M:
    """Apply the transition method `name` to `instance`'s row and return the locked, saved row.

    Under the row lock (`row_lock`, `stale` for a lost race): `refused(locked)` is raised when the
    transition cannot proceed from the current state or its conditions fail; a user without the
    transition's permission gets "You may not <denied>."; `before(locked)` may refuse or write what
    needs the old state; then the transition, `apply(locked)`, save, and `record(locked, from_status)`
    for the timeline. A ConcurrentTransition from the save becomes ConflictError(`conflict`)."""
    try:
        with transaction.atomic():
            locked = row_lock(instance=instance, related=related, stale=stale)
            method = getattr(locked, name)
            if not can_proceed(method):
                raise refused(locked)
            if by.user is not None and not has_transition_perm(method, by.user):
                raise PermissionDeniedError(f"You may not {denied}.")
            if before:
                before(locked)
            from_status = locked.status
            method()
            if apply:
                apply(locked)
            locked.save()
            record(locked, from_status)
    except ConcurrentTransition as exc:
        raise ConflictError(conflict) from exc
    return locked
