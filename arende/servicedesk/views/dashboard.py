"""Service desk pages: dashboard."""
