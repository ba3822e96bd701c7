"""Infrastructure: database, RabbitMQ, key files."""
