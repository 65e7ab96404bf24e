"""The hall director: workload and assignment, liaisons, catalog and calendar, rankings, reports."""
