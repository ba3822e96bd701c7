"""The adapter contract every platform adapter shares: records, mapping checks, the outbox and
its stores, the intake that signs into it, the pump that publishes from it, and the sources."""
