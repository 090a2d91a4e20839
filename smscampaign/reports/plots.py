"""The report's figures, for notebooks: one campaign (:func:`plot_report`) and campaigns compared
(:func:`plot_comparison`).

matplotlib is optional (``pip install 'smscampaign[notebook]'``) and this is the only module that
imports it, inside the functions, so the rest of the package works without it. Chinese labels need
a CJK-capable font (:data:`CJK_FONTS`): the figures name the first one installed on their own text
(the user's rcParams stay as they are); without one, :func:`plot_report` speaks English, and a
figure that must show Chinese (campaign names, ``language="zh"``) warns once, naming the package
to install (:data:`CJK_PACKAGE`).

>>> fig = plot_report(results)                           # doctest: +SKIP
>>> fig.savefig("reports/campaign.png")                  # doctest: +SKIP
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from smscampaign.core.errors import ConfigError
from smscampaign.reports.tables import campaign_report
from smscampaign.stages.numbers import UNKNOWN

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

__all__ = ["CJK_FONTS", "CJK_PACKAGE", "plot_comparison", "plot_lift", "plot_report"]

_CARRIERS_EN = {
    "中国移动": "China Mobile",
    "中国联通": "China Unicom",
    "中国电信": "China Telecom",
    "中国广电": "China Broadnet",
}

#: CJK-capable fonts the figures look for, most common first (Linux, Windows, macOS); the other
#: regions' faces of Noto Sans CJK / Source Han Sans carry every Chinese character too.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Noto Sans CJK TC",
    "Noto Sans CJK HK",
    "Noto Sans CJK JP",
    "Noto Sans CJK KR",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "DengXian",
    "SimHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "Sarasa Gothic SC",
)


#: What to install when no CJK font is found (Debian / Ubuntu; the same fonts exist for every system).
CJK_PACKAGE = "fonts-noto-cjk"
#: File names of the fonts in :data:`CJK_FONTS`, to find one installed after matplotlib's font cache.
_CJK_FILES = re.compile(
    r"notosans(cjk|sc)|sourcehansans|wqy-?(zen|micro)hei|simhei|msyh|deng|pingfang|hiragino|stheiti|"
    r"sarasa",
    re.IGNORECASE,
)
_CJK_TEXT = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def _cjk_font() -> str | None:
    """The first of :data:`CJK_FONTS` matplotlib can use, or None.

    matplotlib reads the system's fonts once into its cache; a font installed since (``apt-get
    install fonts-noto-cjk`` after the first plot) is added to its font list here, not to rcParams.
    """
    from matplotlib import font_manager

    manager = font_manager.fontManager
    font = _first_cjk(f.name for f in manager.ttflist)
    if font is not None:
        return font
    known = {f.fname for f in manager.ttflist}
    for path in font_manager.findSystemFonts():
        if path not in known and _CJK_FILES.search(Path(path).name):
            try:
                manager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # pragma: no cover - an unreadable font file
                continue
    return _first_cjk(f.name for f in manager.ttflist)


def _first_cjk(names: Iterable[str]) -> str | None:
    installed = set(names)
    return next((name for name in CJK_FONTS if name in installed), None)


def _warn_no_cjk_font() -> None:
    warnings.warn(
        f"no CJK font found ({', '.join(CJK_FONTS[:3])}, WenQuanYi, SimHei, Microsoft YaHei, "
        f"PingFang …): Chinese text in the figure draws as empty boxes; install one, e.g. "
        f"`sudo apt-get install {CJK_PACKAGE}` (Debian / Ubuntu), then restart the kernel",
        UserWarning,
        stacklevel=3,
    )


def _font_rc(font: str | None) -> Any:  # matplotlib types rc_context with a Literal of every key
    """rcParams for a figure's own context: the CJK font first, matplotlib's sans-serif behind it."""
    return {"font.family": [font, "sans-serif"]} if font else {}


def _name_font_on_ticks(fig: Figure, font: str | None) -> None:
    """Tick labels are made again when drawn, after the figure's rc context: name the font on them."""
    if font:
        for ax in fig.axes:
            ax.tick_params(labelfontfamily=font)


def plot_report(results: pd.DataFrame, *, top: int = 8, language: str | None = None) -> Figure:
    """A matplotlib figure with three horizontal-bar panels: recipients per status, per carrier
    (accepted vs not), and the ``top`` most frequent error codes. ``language``: ``"zh"`` (Chinese
    labels beside the English), ``"en"``, or None — Chinese when a CJK font (:data:`CJK_FONTS`) is
    installed, English otherwise. A panel with nothing to show says so in words (无错误 / no
    errors). ``results`` is not modified. Needs matplotlib (``pip install 'smscampaign[notebook]'``).

    >>> fig = plot_report(results)                           # doctest: +SKIP
    >>> fig.savefig("reports/campaign.png")                  # doctest: +SKIP
    """
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError("plot_report needs matplotlib: pip install 'smscampaign[notebook]'") from exc

    if language not in (None, "zh", "en"):
        raise ConfigError(f"language must be 'zh', 'en' or None (detect), not {language!r}")
    font = _cjk_font()
    zh = language == "zh" or (language is None and font is not None)
    if zh and font is None:
        _warn_no_cjk_font()
    rc = _font_rc(font if zh else None)

    def words(chinese: str, english: str) -> str:
        return f"{chinese} {english}" if zh else english

    tables = campaign_report(results)
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(13, 4.2), layout="constrained")
        ax_status, ax_carrier, ax_errors = fig.subplots(1, 3)
        _name_font_on_ticks(fig, font if zh else None)

        summary = tables["summary"]
        names = summary["zh"] if zh else summary["status"]
        ax_status.barh(list(names[::-1]), summary["recipients"][::-1], color="#4472C4")
        ax_status.set_title(words("收件人状态", "Recipients by status"))
        ax_status.set_xlabel(words("人数", "recipients"))

        carriers = tables["carriers"]
        ax_carrier.set_title(words("运营商", "Recipients by carrier"))
        if len(carriers):
            labels = [
                str(c) if zh else _CARRIERS_EN.get(c, "unknown" if c == UNKNOWN else str(c))
                for c in carriers["carrier"]
            ][::-1]
            accepted = carriers["accepted"].to_numpy()[::-1]
            other = carriers["recipients"].to_numpy()[::-1] - accepted
            ax_carrier.barh(labels, accepted, label=words("已受理", "accepted"), color="#70AD47")
            ax_carrier.barh(labels, other, left=accepted, label=words("其他", "other"), color="#BFBFBF")
            ax_carrier.set_xlabel(words("人数", "recipients"))
            ax_carrier.legend(loc="lower right", fontsize="small")
        else:
            _say(ax_carrier, words("无数据", "no data"))

        errors = tables["errors"].head(top)
        ax_errors.set_title(words("主要错误码", "Top error codes"))
        if len(errors):
            texts = errors["zh"] if zh else errors["en"]
            labels = [
                f"{'n/a' if pd.isna(c) else int(c)} {_shorten(str(t), 14 if zh else 28)}"
                for c, t in zip(errors["code"], texts, strict=True)
            ]
            ax_errors.barh(labels[::-1], errors["recipients"].to_numpy()[::-1], color="#C00000")
            ax_errors.set_xlabel(words("人数", "recipients"))
        else:
            _say(ax_errors, words("无错误", "no errors"))
    return fig


def _say(ax: Any, text: str) -> None:
    """An empty panel: the words instead of an axis with nothing on it."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize="large", transform=ax.transAxes)


def _shorten(text: str, limit: int = 28) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plot_comparison(comparison: pd.DataFrame) -> Figure:
    """Reply and opt-out rates per campaign (:func:`~smscampaign.compare_campaigns`) as grouped
    bars, a matplotlib ``Figure``; ``comparison`` is not modified. Campaign names in Chinese are
    drawn in the first installed CJK font (:data:`CJK_FONTS`); without one, a warning says what
    to install."""
    import matplotlib  # optional: the notebook extra
    from matplotlib.figure import Figure

    names = [str(c) for c in comparison["campaign"]]
    font = _cjk_font()
    if font is None and any(_CJK_TEXT.search(name) for name in names):
        _warn_no_cjk_font()
    with matplotlib.rc_context(_font_rc(font)):
        fig = Figure(figsize=(max(4.0, 1.4 * len(comparison) + 2), 3.2))
        ax = fig.add_subplot()
        x = np.arange(len(comparison))
        ax.bar(x - 0.2, comparison["reply_rate"].fillna(0) * 100, width=0.4, label="reply rate %")
        ax.bar(x + 0.2, comparison["opt_out_rate"].fillna(0) * 100, width=0.4, label="opt-out rate %")
        ax.set_xticks(x, names, rotation=20, ha="right")
        _name_font_on_ticks(fig, font)
        ax.set_ylabel("% of messages")
        ax.legend(frameon=False)
        ax.set_title("Campaigns compared")
        fig.tight_layout()
    return fig


def plot_lift(outcomes: pd.DataFrame, *, value: bool = False) -> Figure:
    """Each arm's lift against its hold-out with its 95 % interval, in percentage points (or, with
    ``value=True``, value per person), one row per campaign and arm: what
    :func:`~smscampaign.measure_outcomes` returns. The dashed line is "no better than not
    texting"; an interval that crosses it is not a clear effect.

    >>> plot_lift(sc.measure_outcomes("spring", "orders.csv"))        # doctest: +SKIP
    """
    from matplotlib.figure import Figure  # optional: the notebook extra

    needed = {"campaign", "arm", "lift", "lift_low", "lift_high"}
    if not needed <= set(outcomes.columns):
        raise ConfigError(
            f"plot_lift takes measure_outcomes' table; missing {sorted(needed - set(outcomes.columns))}"
        )
    arms = outcomes[outcomes["arm"] != "holdout"].reset_index(drop=True)
    prefix, scale, unit = ("value_lift", 1.0, "value per person") if value else ("lift", 100.0, "points")
    centre = arms[prefix].to_numpy(dtype=float) * scale
    low = arms[f"{prefix}_low"].to_numpy(dtype=float) * scale
    high = arms[f"{prefix}_high"].to_numpy(dtype=float) * scale
    labels = [f"{c} · {a}" for c, a in zip(arms["campaign"], arms["arm"], strict=True)]
    fig = Figure(figsize=(7, 0.6 * max(len(arms), 1) + 1.4))
    ax = fig.add_subplot()
    y = np.arange(len(arms))[::-1]
    clear = (low > 0) | (high < 0)
    colors = np.where(clear, "#1f77b4", "#999999")
    for i in range(len(arms)):  # one colour per bar: clear effects blue, the others grey
        ax.errorbar(
            centre[i],
            y[i],
            xerr=[[np.nan_to_num(centre[i] - low[i])], [np.nan_to_num(high[i] - centre[i])]],
            fmt="none",
            ecolor=colors[i],
            capsize=4,
        )
    ax.scatter(centre, y, c=colors, zorder=3)
    ax.axvline(0, color="black", linestyle="--", linewidth=1)
    ax.set_yticks(y, [_shorten(label) for label in labels])
    ax.set_xlabel(f"lift against the hold-out ({unit}), 95 % interval")
    ax.set_title("Did it sell? Lift per arm")
    if not len(arms):
        _say(ax, "no arm to compare")
    fig.tight_layout()
    return fig
