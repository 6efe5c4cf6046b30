"""The project's own errors, translated at the edge into messages a user can act on.

    SlaproofError
     ├── ConfigError      bad or missing configuration file (exit 2)
     ├── UsageError       bad command-line value: a date, a target name (exit 2)
     └── StoreError       the database cannot be opened, migrated or written (exit 3)
"""

from __future__ import annotations


class SlaproofError(Exception):
    exit_code = 1


class ConfigError(SlaproofError):
    exit_code = 2


class UsageError(SlaproofError):
    exit_code = 2


class StoreError(SlaproofError):
    exit_code = 3
