"""SMS notifications to citizens who gave a mobile and agreed (issue #14): the outbox, its
sender and the gateway adapters.  docs/notifications.md says how to run and configure it."""
