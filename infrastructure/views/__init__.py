"""The network's views: read models kept beside the events, rebuildable from the log
(docs/VIEWS.md). ``open_views`` assembles them."""

from infrastructure.views.assembly import Views, open_views

__all__ = ["Views", "open_views"]
