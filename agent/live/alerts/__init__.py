"""Alerts: messages composed from events (``messages``, ``ticket``), delivered through apprise
(``routes``), with a queue, retries, rate limits and de-duplication (``dispatcher``)."""
