"""What the tests share: one clock, the people of the network, the application and
its HTTP API built as the server builds them, the raw database, in-memory adapters
of the application's ports, and the stories several test packages tell.

``tests/conftest.py`` turns these into fixtures; test modules import the helpers
(``from support.clock import TestClock``).
"""
