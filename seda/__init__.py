"""seda: the application shell -- the root `seda` command and `seda demo` with its seed data.

The only package that imports every other one; nothing imports it.
"""
