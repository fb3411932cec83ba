"""Service desk pages: portal."""
