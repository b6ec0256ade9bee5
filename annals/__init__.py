"""Annals: a static site generator for fact archives."""

__version__ = "0.1.0"
