"""slaproof agent package."""
