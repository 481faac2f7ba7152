"""Astria's API: the one client the portal uses (client.py), its schemas and errors, and
sandbox/, an emulator of the same API over HTTP for development and tests.

This package knows nothing of the portal's models; it could be published on its own.
"""
