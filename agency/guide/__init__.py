"""The public service guide and quarterly disclosure (办事指南, 季公示, R19)."""
