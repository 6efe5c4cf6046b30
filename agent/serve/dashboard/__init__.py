"""`slaproof serve --dashboard`: a read-only web view of what the agent measured (docs/dashboard.md).

``overview`` keeps the overview's figures warm in a background thread (the report's own
analysis, per closed day once, today again and again); ``target`` gathers one target's
page (SmokePing-style chart, incidents with their evidence, the SLA standing of this
period); ``bundle`` builds a report zip in a separate process; ``app`` is the Starlette
application (server-side pages, no script, nothing that writes).
"""
