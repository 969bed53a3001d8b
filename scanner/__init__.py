"""scanner: photographs and scans of paper sheets -> answers in the office ledger.

Public API (what the kiosk's staff pages use; the rest is the reader's insides):
:mod:`scanner.pipeline` (read files, a photo or uploaded bytes, and store what was read),
:mod:`scanner.images` (which files and pages can be read) and :mod:`scanner.reasons` (why a
sheet was refused, in Persian and English).  The pure page reader is :mod:`scanner.page`; the
command line is :mod:`scanner.cli` (``seda scan``, ``seda review``).
"""
