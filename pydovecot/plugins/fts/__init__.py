"""Full-text search: the fts plugin and our SQLite FTS5 index."""

from .engine import FtsIndex
from .plugin import FtsPlugin

__all__ = ["FtsIndex", "FtsPlugin"]
