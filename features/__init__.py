"""Point-in-time features: pure builders from what was known before an as-of instant."""
