"""What the rules pages draw and say, without a browser: the charts' geometry (SVG drawn on the
server) and a translation for every problem the rule-set validation can name."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask_babel import force_locale

from ledger.app import create_app
from ledger.bootstrap import Ledger
from ledger.console.rules.charts import PLOT_HEIGHT, TOP, BarValue, Series, bar_chart, nice_step
from ledger.console.rules.labels import problem_message
from ledger.domain.ruleset import RuleSetInvalid, parse_ruleset
from ledger.service.rules.default import DEFAULT_RULESET

PLATFORMS = tuple(DEFAULT_RULESET["platforms"])


@pytest.mark.parametrize(("highest", "step"), [(0, 1), (1, 1), (5, 1), (6, 2), (11, 5),
                                               (90000, 20000), (100000, 20000),
                                               (100001, 50000)])
def test_axis_steps_are_one_two_or_five_times_a_power_of_ten(highest: int, step: int) -> None:
    assert nice_step(highest) == step


def test_bars_stand_on_the_baseline_in_proportion_to_their_values() -> None:
    chart = bar_chart("chart", "Title", "Description", ["A", "B"],
                      [Series("Before", "bar-before"), Series("After", "bar-after")],
                      [[BarValue(40, "A before"), BarValue(100, "A after")],
                       [BarValue(0, "B before"), BarValue(20, "B after", "bar-same")]], str)

    heights = [bar.height for bar in chart.bars]
    assert heights == [PLOT_HEIGHT * 0.4, PLOT_HEIGHT, 0, PLOT_HEIGHT * 0.2]
    assert all(bar.y + bar.height == TOP + PLOT_HEIGHT == chart.baseline_y
               for bar in chart.bars)
    assert [bar.css for bar in chart.bars] == ["bar-before", "bar-after", "bar-before",
                                               "bar-same"]
    assert [bar.label for bar in chart.bars] == ["40", "100", "0", "20"]
    assert [tick.label for tick in chart.ticks] == ["0", "20", "40", "60", "80", "100"]
    assert all(chart.left <= bar.x and bar.x + bar.width <= chart.right for bar in chart.bars)
    assert [item.label for item in chart.legend] == ["Before", "After"]


def _problems(document: Any) -> dict[str, str]:
    try:
        parse_ruleset(document, PLATFORMS)
    except RuleSetInvalid as error:
        return error.errors
    raise AssertionError("the document is valid")


def _broken(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(DEFAULT_RULESET)
    document.update(changes)
    return document


def _every_kind_of_problem() -> list[str]:
    tiers = copy.deepcopy(DEFAULT_RULESET["tiers"])
    documents: list[Any] = [
        [],
        _broken(colour="green", name="", window_months="12"),
        _broken(window_months=0, deduction_weight=2.0),
        {key: value for key, value in DEFAULT_RULESET.items() if key != "window_months"},
        _broken(platforms={"elsewhere": {"weight": "1"}, "lijiayuan": "1",
                           "nanyang_young": {"weight": "-1"},
                           "wuhe_zhonglian": {"weight": "lots"}},
                categories={"gardening": {"weight": "1"}, "honors": 2}),
        _broken(caps=[], tiers=[]),
        _broken(tiers=[{"when": {}, "limit_uplift_cny": -1, "rate_discount_bp": 0}]),
        _broken(tiers=[tiers[1], tiers[0], {"when": "always", "limit_uplift_cny": 0,
                                            "rate_discount_bp": 0}]),
        _broken(window_months=3, tiers=[tiers[0], {"when": {"min_score": 0},
                                                   "limit_uplift_cny": 0,
                                                   "rate_discount_bp": 0}]),
        _broken(platforms=[]),
    ]
    return sorted({message for document in documents
                   for message in _problems(document).values()})


def test_every_problem_the_validation_names_is_translated(console_ledger: Ledger) -> None:
    messages = _every_kind_of_problem()
    assert len(messages) >= 18  # every kind ledger.domain.ruleset names, as of writing

    app = create_app(ledger=console_ledger)
    with app.test_request_context("/console/rules"), force_locale("zh_Hans_CN"):
        untranslated = [message for message in messages
                        if problem_message(message) == message]

    assert untranslated == []
