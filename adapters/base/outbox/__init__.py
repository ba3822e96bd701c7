"""The adapter's local outbox: its own small database, a SQLite file by default
(`var/adapter-{platform}.sqlite3`) or a PostgreSQL schema of its own (`adapter_{platform}`).

One store per responsibility, all in that one database so that a call's records, its
quarantined ones and the cursor it moves commit together: the signed events waiting for the
broker (events), the adapter's own values such as a feed's cursor (state), refused records
(quarantine), the sealed ID numbers of the residents it has seen (residents), the ledger's
notices it handled (notices), the files it imported (imports) and the ledger's receipts for
the events it published (receipts). `Outbox` opens the database, brings its tables up to date
with their own migrations (`migrations/`) and hands out transactions over the stores.
"""
