"""slaproof reports package."""
