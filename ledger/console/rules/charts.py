"""Bar charts drawn on the server as SVG geometry (SPEC §13: a simulation page with charts).

Branches are offline and the CSP allows no inline script: a chart is plain SVG the template
writes out from these values (rects and texts, coloured by CSS classes from rules.css), so it
needs no JavaScript library, fetches nothing and prints as sharply as the text around it.
Each chart carries a title and a description for screen readers; every bar has a title
with its exact figure, and the page's table carries the same numbers.

Pure: labels and figures in (already translated and formatted), coordinates out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 720
PLOT_HEIGHT = 220
TOP = 24  # room for the value above the tallest bar
CHARACTER_WIDTH = 7.0  # of the 12px axis font, to leave room for the longest tick label
WIDE_CHARACTER_WIDTH = 13.0  # a CJK character of the 13px group labels
TURNED_LABEL_COSINE = 0.82  # labels are turned 35°: this much of their length runs sideways
AXIS_GAP = 8
X_LABEL_ROOM = 96  # below the plot: labels turned 40°
LEGEND_ROOM = 28
LEGEND_ITEM_WIDTH = 140
TURNED_LABELS_FROM = 7  # groups; fewer have room for their labels written straight
GROUP_PADDING = 0.2  # of a group's width, left empty between groups
BAR_WIDTH_MAX = 64  # a few groups: bars stay bars, centred in their group
TICKS_MAX = 5
NICE_STEPS = (1, 2, 5)

Number = Callable[[int], str]


@dataclass(frozen=True)
class Series:
    label: str
    css: str  # the class that colours its bars (rules.css)


@dataclass(frozen=True)
class BarValue:
    value: int
    title: str  # the exact figure in words, shown on hover and read by screen readers
    css: str | None = None  # a colour of its own (the histogram's unchanged bucket)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str
    label: str  # the value written above the bar ("" for none)
    label_x: float
    label_y: float


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class GroupLabel:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class LegendItem:
    x: float
    y: float
    css: str
    label: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    left: float  # where the plot starts (after the tick labels)
    right: float
    baseline_y: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    group_labels: tuple[GroupLabel, ...]
    legend: tuple[LegendItem, ...]
    turned_labels: bool  # many groups: their labels are turned so that they do not overlap


def bar_chart(chart_id: str, title: str, description: str, groups: Sequence[str],
              series: Sequence[Series], values: Sequence[Sequence[BarValue]], number: Number,
              value_labels: bool = True, width: int = WIDTH) -> Chart:
    """One group of bars per label of `groups`, one bar per series in each (values[g][s])."""
    assert len(values) == len(groups) and all(len(row) == len(series) for row in values)
    highest = max((bar.value for row in values for bar in row), default=0)
    step = nice_step(highest)
    top_value = max(step, -(-highest // step) * step)
    tick_values = range(0, top_value + 1, step)
    tick_labels = [number(value) for value in tick_values]
    left = AXIS_GAP * 2 + CHARACTER_WIDTH * max(len(label) for label in tick_labels)
    right = width - AXIS_GAP
    baseline = TOP + PLOT_HEIGHT
    group_width = (right - left) / max(1, len(groups))
    # Many groups, or labels wider than their group (a town's name with its township), are
    # written turned, so that neighbours do not run into each other.
    turned = (len(groups) >= TURNED_LABELS_FROM
              or max((label_width(group) for group in groups), default=0) > group_width)
    if turned and groups:
        # The first group's turned label reaches left of its bars: room for it in the margin.
        reach = label_width(groups[0]) * TURNED_LABEL_COSINE - group_width / 2
        left = max(left, reach + AXIS_GAP * 2)
        group_width = (right - left) / len(groups)
    label_room = X_LABEL_ROOM if turned else X_LABEL_ROOM // 3
    legend_room = LEGEND_ROOM if len(series) > 1 else 0
    height = int(baseline + label_room + legend_room)

    def y_of(value: int) -> float:
        return baseline - PLOT_HEIGHT * value / top_value

    bar_width = min(BAR_WIDTH_MAX, group_width * (1 - GROUP_PADDING) / max(1, len(series)))
    bars: list[Bar] = []
    labels: list[GroupLabel] = []
    for index, (group, row) in enumerate(zip(groups, values, strict=True)):
        start = left + group_width * (index + 0.5) - bar_width * len(series) / 2
        for position, (one, kind) in enumerate(zip(row, series, strict=True)):
            x = start + bar_width * position
            y = y_of(one.value)
            bars.append(Bar(round(x, 1), round(y, 1), round(bar_width, 1),
                            round(baseline - y, 1), one.css or kind.css, one.title,
                            number(one.value) if value_labels else "",
                            round(x + bar_width / 2, 1), round(y - 4, 1)))
        labels.append(GroupLabel(round(left + group_width * (index + 0.5), 1),
                                 baseline + AXIS_GAP * 2, group))
    legend_y = baseline + label_room + 6
    legend = tuple(LegendItem(left + LEGEND_ITEM_WIDTH * position, legend_y, kind.css,
                              kind.label)
                   for position, kind in enumerate(series)) if legend_room else ()
    return Chart(chart_id, title, description, width, height, round(left, 1), right, baseline,
                 tuple(bars),
                 tuple(Tick(round(y_of(value), 1), label)
                       for value, label in zip(tick_values, tick_labels, strict=True)),
                 tuple(labels), legend, turned)


def label_width(text: str) -> float:
    """About how wide a label is written: a Chinese character takes the font's full size, a
    Latin one about half of it."""
    return sum(WIDE_CHARACTER_WIDTH if ord(character) > 0x2E7F else CHARACTER_WIDTH
               for character in text)


def nice_step(highest: int) -> int:
    """The smallest 1-2-5 step giving at most TICKS_MAX steps up to `highest` (at least 1)."""
    power = 1
    while True:
        for factor in NICE_STEPS:
            step = factor * power
            if step * TICKS_MAX >= highest:
                return step
        power *= 10
