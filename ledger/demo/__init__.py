"""The embedded quick start: realistic townships, residents and point events."""
