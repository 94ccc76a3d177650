"""Audiobook Studio's headless core. Never imports Qt or the GUI package."""

__version__ = "0.1.0"
