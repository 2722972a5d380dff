"""Notifications beside the events: the outbox, the webhooks' delivery state, the worker."""
