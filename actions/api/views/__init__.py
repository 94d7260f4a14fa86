"""Thin views: reads come from actions.selectors, every write is one call to actions.services.
Domain errors become {"detail", "code"} responses in common.api.exceptions. One module per
resource: providers (and groups), catalog (actions), runs."""
