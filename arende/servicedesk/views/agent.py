"""Service desk pages: agent."""
