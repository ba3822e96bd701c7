"""`pointsledger audit` (SPEC §14, "Auditing from outside"): the tool a township, the regulator or
an independent auditor runs against the bank's ledger.

It trusts only the keys it is given and the checkpoint it kept from its previous run, and speaks
to the ledger over HTTP alone; so it stands on `ledger.contract` and `ledger.runtime` and nothing
else of the ledger (an import contract in pyproject.toml keeps it so).
"""
