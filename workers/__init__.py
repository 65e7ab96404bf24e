"""RQ jobs, the worker entry and the one scheduler process."""
