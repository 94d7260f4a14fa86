"""Every write to actions goes through these functions: admin, API and tasks alike."""

from actions.services.catalog import (
    action_delete,
    action_save,
    provider_delete,
    provider_group_delete,
    provider_group_save,
    provider_host_key_pin,
    provider_save,
)
from actions.services.execution import action_run_execute
from actions.services.runs import (
    action_run_approve,
    action_run_cancel,
    action_run_reject,
    action_run_request,
)
from actions.services.snapshot import step_targets
from actions.services.sweeper import action_runs_sweep

__all__ = [
    "action_delete",
    "action_run_approve",
    "action_run_cancel",
    "action_run_execute",
    "action_run_reject",
    "action_run_request",
    "action_runs_sweep",
    "action_save",
    "provider_delete",
    "provider_group_delete",
    "provider_group_save",
    "provider_host_key_pin",
    "provider_save",
    "step_targets",
]

from actions.services.templates import action_create_from_template

__all__ += ["action_create_from_template"]
