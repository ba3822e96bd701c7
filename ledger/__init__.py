"""pointsledger: township governance points become bank credit, through a tamper-evident ledger."""
