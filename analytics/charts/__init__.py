"""Charts drawn on the server: svg for the admin dashboard (inline SVG, no JavaScript), png for the
report emails (matplotlib)."""
