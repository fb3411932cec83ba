"""Service desk pages: phone."""
