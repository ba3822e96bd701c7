"""A township runs its adapter on its own machine: importing any adapter module loads nothing of
the ledger but `ledger.contract` and the shared runtime `ledger.runtime` (not its database
engine and models, not its services), however indirectly. The import contracts in
pyproject.toml say the same of the source; this says it of what Python really loads."""

from __future__ import annotations

import json
import subprocess
import sys

ALLOWED_LEDGER_PACKAGES = ("ledger.contract", "ledger.runtime")

# In a fresh interpreter: every module of the adapters package, then what got loaded.
IMPORT_EVERY_ADAPTER_MODULE = """
import importlib, json, pkgutil, sys
import adapters
names = [info.name for info in pkgutil.walk_packages(adapters.__path__, "adapters.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"imported": names, "loaded": sorted(sys.modules)}))
"""


def _allowed(module: str) -> bool:
    return module == "ledger" or any(module == package or module.startswith(package + ".")
                                     for package in ALLOWED_LEDGER_PACKAGES)


def test_every_adapter_module_loads_only_the_contract_and_the_runtime_of_the_ledger() -> None:
    completed = subprocess.run([sys.executable, "-c", IMPORT_EVERY_ADAPTER_MODULE],
                               capture_output=True, text=True, check=True, timeout=120)
    found = json.loads(completed.stdout)

    assert {"adapters.base.notices", "adapters.base.outbox.database", "adapters.base.pump",
            "adapters.wuhe_zhonglian.poller"} <= set(found["imported"])
    ledger_modules = [name for name in found["loaded"]
                      if name == "ledger" or name.startswith("ledger.")]
    assert ledger_modules, "the adapters use the ledger's contract"
    assert [name for name in ledger_modules if not _allowed(name)] == []
