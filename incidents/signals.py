"""Signals other apps listen to; receivers must only enqueue work, never decide anything."""

from django.dispatch import Signal

# Sent after the transaction of a status transition commits; kwargs: incident, transition (the
# service's name for it: "resolve", "auto_resolve", "close", ...).
incident_transitioned = Signal()
