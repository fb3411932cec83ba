"""SLA policies and clocks. `engine` is the pure business-time arithmetic (no database)."""
