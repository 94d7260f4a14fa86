"""Signals other apps listen to; receivers must only enqueue work, never decide anything."""

from django.dispatch import Signal

# Sent after the transaction that finished a run commits; kwargs: run (the finished ActionRun).
run_finished = Signal()
