"""Thin views: reads come from postmortems.selectors, every write is one call to
postmortems.services. Domain errors become {"detail", "code"} responses in
common.api.exceptions (refused transition or an existing post-mortem 409, missing permission 403);
model validation errors become field errors. One module per resource: post-mortems, action items,
related incidents."""
