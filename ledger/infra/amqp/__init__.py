"""RabbitMQ: topology (SPEC §5), the broker-mode event publisher and the ledger consumer."""
