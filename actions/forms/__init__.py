"""Admin forms for actions, one module per page family (providers, catalog, runs). They collect
and shape input; actions.services decides and writes."""
