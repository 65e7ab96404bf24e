"""Working-day calendar (R1): built-in data, director overrides, imported arrangements."""
