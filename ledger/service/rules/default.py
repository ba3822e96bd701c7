"""The rule set a new bank starts from: a proposal for the four towns of DOMAIN.md, to be
drafted, simulated and approved like any other (`pointsledger rules default`).

Each town's points are worth the same (weight 1.0). Monthly caps keep one habit from buying
the top tier: sorting garbage every day earns about 3 points a day, so 30 a month counts.
Safety patrols, volunteering and mutual aid weigh more than watching a safety video or
answering a quiz. A deduction weighs twice an award. The top tiers ask for steady activity
(active months) and a clean record; the uplifts stay within the bank's unsecured online
lending of 200 000 CNY, and discounts within 50 basis points.
"""

from __future__ import annotations

from typing import Any

DEFAULT_RULESET: dict[str, Any] = {
    "name": "Contribution credit policy (default)",
    "window_months": 12,
    "platforms": {
        "lijiayuan": {"weight": "1.0"},
        "nanyang_young": {"weight": "1.0"},
        "wuhe_zhonglian": {"weight": "1.0"},
        "pingan_gongfu": {"weight": "1.0"},
    },
    "categories": {
        "garbage_sorting": {"weight": "1.0", "monthly_cap": 30},
        "environment_hygiene": {"weight": "1.0", "monthly_cap": 30},
        "volunteering": {"weight": "1.5", "monthly_cap": 40},
        "safety_patrol": {"weight": "2.0", "monthly_cap": 40},
        "safety_education": {"weight": "0.5", "monthly_cap": 10},
        "knowledge_quiz": {"weight": "0.5", "monthly_cap": 10},
        "civic_participation": {"weight": "1.0", "monthly_cap": 20},
        "mutual_aid": {"weight": "1.5", "monthly_cap": 30},
        "honors": {"weight": "2.0", "monthly_cap": 50},
        "other": {"weight": "0.2", "monthly_cap": 5},
    },
    "deduction_weight": "2.0",
    "tiers": [
        {"when": {"min_score": 1200, "min_active_months": 10, "max_deductions": 0},
         "limit_uplift_cny": 200000, "rate_discount_bp": 50},
        {"when": {"min_score": 600, "min_active_months": 6, "max_deductions": 0},
         "limit_uplift_cny": 100000, "rate_discount_bp": 30},
        {"when": {"min_score": 300, "min_active_months": 3, "max_deductions": 1},
         "limit_uplift_cny": 50000, "rate_discount_bp": 15},
        {"when": {"min_score": 100}, "limit_uplift_cny": 20000, "rate_discount_bp": 5},
        {"when": {}, "limit_uplift_cny": 0, "rate_discount_bp": 0},
    ],
    "caps": {"limit_uplift_cny_max": 200000, "rate_discount_bp_max": 50},
}
