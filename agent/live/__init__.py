"""What the agent says while it happens: incident events, their log lines, alerts, /metrics, status.

``events`` names what can happen; ``tracker`` turns rounds into incident events as they
happen (the report decides incidents afterwards from the stored rows; this is the live,
simpler view that lets the agent act and speak then); ``loglines`` writes one journal
line per event; ``alerts`` composes and delivers messages through apprise and records
each delivery; ``metrics`` serves Prometheus; ``status`` tells whether the agent runs;
``wiring`` joins them to the daemon through its extension points (agent/services.py).
"""
