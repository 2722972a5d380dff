"""Notifications (issue 13): announcements derived from the event log, delivered by channels.

An announcement says *that* something happened to a referral a service holds,
never *what* about her: ids, kinds, urgency, deadlines and a link the recipient
follows through the API (which logs the read).
"""
