"""The dependency-free core: times, units, error classes, the probe result type.

Every layer may import it; it imports nothing of the project outside itself and
nothing outside the standard library, so probes stay free of the agent and the
analysis stays free of I/O.
"""
