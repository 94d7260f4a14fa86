"""The cost of an incident (the reports' "Cost impact"), one definition for the incident page, the
post-mortem, the API and analytics:

- hours.py: response hours, pure: each responder's involvement runs from each of their starts (an
  action of theirs on the timeline, a role or the assignment given to them) to the end of the
  working window it falls in (resolution, dismissal; a reopen opens a new window; still open: now),
  and a person's intervals are counted once (their union). Plus the review meeting: its length
  times its invitees.
- record.py: reads an incident's record into those inputs and prices them with the incident's rate
  (the first of its services, in the order they were added, whose owner team has an hourly rate;
  else COST_DEFAULT_HOURLY_RATE).

analytics.models.IncidentCost stores the result per incident so analytics sums a column."""
