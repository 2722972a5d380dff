"""Notifications' adapters: the outbox and the channels that deliver its announcements."""
