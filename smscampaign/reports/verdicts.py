"""One-line verdicts of an arm against its hold-out, in Chinese and English.

What :func:`~smscampaign.measure_outcomes` writes in ``verdict_zh`` / ``verdict_en`` — the lift in
percentage points with its interval, plainly saying when the difference is not clear (and the
smallest one this hold-out could see), when there is no hold-out, and what the hold-out itself did.

>>> words = Verdicts(label=("下单率", "order rate"), confidence=0.95, valued=False)
>>> words.zh({"arm": "B", "people": 9000, "n0": 1000, "rate": 0.058, "lift": 0.008,
...           "lift_low": 0.003, "lift_high": 0.013, "p_value": 0.001, "enough": True, "mde": 0.005})
'B 比不发短信多 0.8 个百分点的下单率（95% 区间 0.3–1.3）'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["Verdicts"]

_HOLDOUT: Final = "holdout"


def _points(value: float, digits: int) -> str:
    return f"{value * 100:.{digits}f}"


def _digits(low: float, high: float) -> int:
    """One decimal of a percentage point, two when the interval is narrower than half a point."""
    return 2 if abs(high - low) * 100 < 0.5 else 1


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class Verdicts:
    """Writes the verdicts: ``label`` (Chinese, English) names the rate (转化率 / conversion
    rate, 下单率 / order rate …); ``valued``: whether value per person is measured."""

    label: tuple[str, str]
    confidence: float
    valued: bool

    @property
    def _level(self) -> str:
        return f"{self.confidence * 100:g}"

    def _significant(self, row: dict[str, Any]) -> bool:
        p = row.get("p_value")
        return p is not None and not _missing(p) and float(p) < 1 - self.confidence

    def zh(self, row: dict[str, Any]) -> str:
        """The Chinese verdict of one row of the outcomes table."""
        arm, label = row["arm"], self.label[0]
        if arm == _HOLDOUT:
            text = f"对照组（不发短信）：{row['people']:,} 人，{label} {_points(row['rate'], 1)}%"
            if self.valued:
                text += f"，人均金额 {row['value_per_person']:.2f}"
            return text
        if not row.get("n0"):
            return f"{arm}：{label} {_points(row['rate'], 1)}%；没有对照组（不发短信的人），无法计算提升"
        low, high, lift = row["lift_low"], row["lift_high"], row["lift"]
        d = _digits(low, high)
        if low >= 0:
            interval = f"{_points(low, d)}–{_points(high, d)}"
        else:
            interval = f"{_points(low, d)} 至 {_points(high, d)}"
        if self._significant(row) and row.get("enough", True):
            more = "多" if lift > 0 else "少"
            text = (
                f"{arm} 比不发短信{more} {_points(abs(lift), d)} 个百分点的{label}"
                f"（{self._level}% 区间 {interval}）"
            )
        else:
            small = "" if row.get("enough", True) else "样本太小，"
            text = (
                f"{small}{arm} 与不发短信相比{label}看不出差别：{lift * 100:+.{d}f} 个百分点"
                f"（{self._level}% 区间 {interval}，p = {row['p_value']:.2g}）；"
                f"这个对照组能看出的最小差别约 {_points(row['mde'], d)} 个百分点"
            )
        if self.valued and not _missing(row.get("value_lift_low")):
            text += (
                f"；人均金额 {row['value_lift']:+.2f}（{self._level}% 区间 "
                f"{row['value_lift_low']:.2f} 至 {row['value_lift_high']:.2f}）"
            )
        return text

    def en(self, row: dict[str, Any]) -> str:
        """The English verdict of one row of the outcomes table."""
        arm, label = row["arm"], self.label[1]
        if arm == _HOLDOUT:
            text = f"hold-out (not texted): {row['people']:,} people, {row['rate']:.1%} {label}"
            if self.valued:
                text += f", {row['value_per_person']:.2f} per person"
            return text
        if not row.get("n0"):
            return f"{arm}: {row['rate']:.1%} {label}; no hold-out to compare against"
        low, high, lift = row["lift_low"], row["lift_high"], row["lift"]
        d = _digits(low, high)
        interval = f"{self._level} % interval {_points(low, d)} to {_points(high, d)}"
        if self._significant(row) and row.get("enough", True):
            way = "beats" if lift > 0 else "trails"
            text = (
                f"{arm} {way} not texting by {_points(abs(lift), d)} points of {label} "
                f"({interval}, p = {row['p_value']:.2g})"
            )
        else:
            small = "too small to tell: " if not row.get("enough", True) else ""
            text = (
                f"{small}no clear difference between {arm} and not texting: "
                f"{lift * 100:+.{d}f} points of {label} ({interval}, p = {row['p_value']:.2g}); "
                f"this hold-out sees differences of {_points(row['mde'], d)} points or more"
            )
        if self.valued and not _missing(row.get("value_lift_low")):
            text += (
                f"; value per person {row['value_lift']:+.2f} ({self._level} % interval "
                f"{row['value_lift_low']:.2f} to {row['value_lift_high']:.2f})"
            )
        return text
