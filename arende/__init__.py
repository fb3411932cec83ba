"""Ärende: service desk and IT governance for Swedish municipal IT units."""
