"""The ingest worker (`pointsledger consume`): `pointsledger.ledger` → verify → append → ack
(SPEC §5).

One thread owns the broker connection (loop.py): it receives, cuts the messages into batches
(batches.py) and hands each batch at once to the stage-one helper process, which checks the
signatures ahead (verifying.py; helper_process.py and helper.py the two ends of its pipes), and
to the append thread (appending.py, a one-thread executor), which appends the batches one after
another, each in one transaction (ingestion.py). Only after that commit does the broker thread
ack the batch's deliveries (one `basic_ack(multiple=True)`): a delivery is never acked before
its batch is in the database. The broker thread goes on receiving while a batch waits for the
database, so the next batches are in hand, and verified, by the time it commits. batches.py
holds the rules that decide whether an event could be lost or counted twice, as pure code
tested on its own.

Only the holder of the ledger's consumer lock (ConsumerLock) consumes (standby.py): a worker
started beside another stands by, without a broker connection, until the lock is free, and one
that finds the lock taken by another worker drops its connection (its unacked messages go back
to the queue) and stands by again. A worker that takes the lock waits until no other channel
consumes the queue, so that the previous holder's unacked messages are back first and keep
their order.

The broker sends at most PREFETCH_COUNT unacked messages and at most BATCHES_IN_HAND_MAX
batches are in hand (and verified ahead), which bounds memory whatever the backlog. While the
database is unavailable, the append thread retries its batch and the broker thread keeps
serving the connection, so heartbeats keep it and its unacked messages ours. When the broker
connection is lost, the append thread gives up its batch, the worker reconnects with capped
back-off and declares the topology again; the unacked messages come back redelivered and the
ingestor records each event once (the rest are duplicates).
"""
