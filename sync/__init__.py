"""sync: moves records from the office to the central server, and answers back.

Two halves, so the central server can take the wire format without the office's client:

- the wire format, pure and shared with :mod:`central`: :mod:`sync.batch` (signed batches),
  :mod:`sync.request_auth` (signed requests), :mod:`sync.refusals`, :mod:`sync.export_file`
  (USB files), :mod:`sync.json_limits`, :mod:`forms.identity_keys` (the office's key pair);
- the office's client: :mod:`sync.office_state` (the outbox and the pull cursor in the ledger
  file), :mod:`sync.client` (:func:`~sync.client.sync_once`, :func:`~sync.client.run_forever`),
  :mod:`sync.transport`, :mod:`sync.offline` (USB), :mod:`sync.trust`,
  :mod:`sync.cli` (``seda sync``).

This file imports nothing, so ``import sync.batch`` loads the wire format alone.
"""
