"""The four township platforms of DOMAIN.md as the demo presents them (demo data only).

The native records themselves come from each adapter's simulator; what is here is what the demo
adds: how each platform is named and registered, how its records arrive (for the summary), how it
numbers its records, and the deliberate cases it must show (a deduction, a revoked award).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoPlatform:
    code: str
    name: str
    township: str
    # How the platform's records reach its adapter, for the summary line.
    arrives_as: str
    # The field of a native record holding its id, and (lijiayuan) one naming another record.
    id_field: str
    reference_field: str | None
    # Record ids are `{id_prefix}{n:08d}`, or the bare integer n when there is no prefix.
    id_prefix: str | None
    # (native category, points) of the deduction and of the award later revoked, for the
    # platforms whose adapter supports those kinds (the adapter's KINDS decides).
    deduction: tuple[str, int] | None = None
    revoked_award: tuple[str, int] | None = None

    def native_id(self, number: int) -> str | int:
        return number if self.id_prefix is None else f"{self.id_prefix}{number:08d}"


PLATFORMS = (
    DemoPlatform("lijiayuan", "沥家园", "瓜沥镇", "JSON webhooks", "jfjl_id", "yjfjl_id",
                 "LJY", deduction=("LJFL", 5), revoked_award=("GYHD", 10)),
    DemoPlatform("nanyang_young", "南阳young", "南阳街道", "GBK CSV export", "流水号", None,
                 "NY", deduction=("垃圾分类", 5)),
    DemoPlatform("wuhe_zhonglian", "五和众联", "河上镇", "REST API, polled", "id", None,
                 None, deduction=("patrol", 10)),
    DemoPlatform("pingan_gongfu", "平安共富积分", "衙前镇", "JSON array pushes", "activityId",
                 None, "PAGF"),
)
