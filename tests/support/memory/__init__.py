"""In-memory adapters of the application's ports, for tests of its rules that need
no database: ``memory_rete`` assembles them (see ``assembly``)."""

from support.memory.assembly import memory_rete

__all__ = ["memory_rete"]
