"""Astria's API: the one client the portal uses (client.py), its schemas and errors, and the
origins that may be fetched (origins.py). Its emulator is the separate app `sandbox`.

This package knows nothing of the portal (it imports none of its apps); it could be published
on its own.
"""
