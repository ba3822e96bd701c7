"""Use cases: each takes plain inputs and a session factory, and owns its transaction."""
