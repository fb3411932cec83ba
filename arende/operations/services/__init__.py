"""Every write of the operations app goes through these services."""
