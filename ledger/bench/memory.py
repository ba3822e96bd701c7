"""This process's memory, as the benchmarks report it (Linux: /proc/self/status).

VmHWM and VmRSS belong to the process's own address space. `ru_maxrss` does not: Linux carries
the high-water mark of the process a child was started from over the exec, so a child started
from a large test run would report the parent's memory as its own.
"""

from __future__ import annotations

from pathlib import Path

from ledger.bench.ingest import BenchFailed


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (VmHWM, Linux)."""
    return _memory_mb("VmHWM")


def rss_mb() -> float:
    """This process's resident memory now (VmRSS, Linux)."""
    return _memory_mb("VmRSS")


def _memory_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise BenchFailed(f"cannot read this process's memory ({field}) from /proc")
