"""The store: the only code that speaks SQL.

``database`` opens SQLite or PostgreSQL and offers typed reads and the chained
append; ``schema`` holds the tables, ``chain`` the hash chain, ``rows`` the
conversion of probe results to rows, ``exchange`` the JSON-lines and CSV forms,
``verify`` the chain walk, ``migrations`` the Alembic history.
"""

from agent.store.database import HEAD_REVISION, CheckRef, Store, TargetRef, iter_verify, safe_url, settings_hash

__all__ = ["HEAD_REVISION", "CheckRef", "Store", "TargetRef", "iter_verify", "safe_url", "settings_hash"]
