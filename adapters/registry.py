"""The adapters there are, by platform code. Adding a platform: its package, and a line here."""

from __future__ import annotations

import importlib
from types import ModuleType

PLATFORMS = ("lijiayuan", "nanyang_young", "wuhe_zhonglian", "pingan_gongfu")


class UnknownAdapter(ValueError):
    pass


def adapter_module(platform: str) -> ModuleType:
    """The adapter package, imported on demand (one adapter process needs only its own)."""
    if platform not in PLATFORMS:
        raise UnknownAdapter(f"there is no adapter for platform {platform!r}; adapters exist for "
                             f"{', '.join(PLATFORMS)}")
    return importlib.import_module(f"adapters.{platform}")
