"""Alembic migrations; run on every start and by ``slaproof db upgrade``."""
