"""The relational store: models, engine, migrations, the append-only guard."""
