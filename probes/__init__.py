"""Probes: one module per check kind.

A probe takes its check settings and returns a :class:`agent.core.result.ProbeResult`.
Probes know nothing of storage or scheduling; a failed check is a result with
``ok=False`` and an error class, never an exception.
"""
