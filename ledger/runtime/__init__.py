"""What the ledger and the platforms' adapters (and a township's witness) share, and nothing else
of the ledger: retrying with back-off, messages and topology on RabbitMQ, the pipelined
publisher, secret files, files replaced whole, opening a database, and how log lines are
written (their format and request ids). A township runs its adapter on its own machine, on
`ledger.contract` and this package alone (the import contracts in pyproject.toml keep it so)."""
