"""Lift against a hold-out: intervals, p-values and the minimum detectable effect, on whole arrays.

Every function takes numpy arrays (one element per comparison) and returns arrays, so a table of
arms — or 500 simulated campaigns in the test suite — is computed in one pass:

- :func:`proportion_lift` — difference of two rates (arm − hold-out): Newcombe's hybrid score
  interval (from Wilson's intervals; near-nominal coverage down to small samples and rare outcomes)
  and the pooled two-proportion z-test's two-sided p-value (Fisher's exact test, with scipy, where
  an arm has fewer than :data:`MIN_COUNT` successes or failures);
- :func:`relative_lift` — ratio of two rates minus one, with the log (Katz) interval;
- :func:`mean_lift` — difference of two means per person (value per person, zeros included) from
  sums and sums of squares: Welch's interval and test (t with Welch–Satterthwaite degrees of
  freedom), which holds for skewed amounts such as lognormal order values once each arm has a few
  dozen buyers (``tests/test_outcomes.py`` measures it);
- :func:`minimum_detectable_effect` — the smallest difference of rates these sample sizes see with
  80 % power at the 5 % level.

Normal quantiles come from the standard library (:class:`statistics.NormalDist`); the t quantile
and Fisher's test from scipy when installed (``pip install 'smscampaign[stats]'``), else a
Cornish–Fisher expansion of t (exact to 3 decimals from 5 degrees of freedom) and the z-test.

>>> out = proportion_lift(np.array([80]), np.array([1000]), np.array([50]), np.array([1000]))
>>> round(float(out["lift"][0]), 3), float(out["p_value"][0]) < 0.01
(0.03, True)
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Final

import numpy as np

from smscampaign.campaign.variants import newcombe_interval

__all__ = [
    "MIN_COUNT",
    "mean_lift",
    "minimum_detectable_effect",
    "proportion_lift",
    "relative_lift",
    "z_quantile",
]

#: The normal approximation is trusted when each arm has at least this many successes and failures.
MIN_COUNT: Final = 5
_STANDARD: Final = NormalDist()


def z_quantile(confidence: float) -> float:
    """The two-sided normal quantile of ``confidence`` (1.96 for 0.95)."""
    return _STANDARD.inv_cdf(0.5 + confidence / 2)


def _two_sided_p(z: np.ndarray) -> np.ndarray:
    """Two-sided normal p-values of z statistics (NaN stays NaN)."""
    erfc = np.frompyfunc(math.erfc, 1, 1)
    z = np.asarray(z, dtype=float)
    out = np.full(z.shape, np.nan)
    ok = np.isfinite(z)
    out[ok] = erfc(np.abs(z[ok]) / math.sqrt(2)).astype(float)
    return out


def _t_quantile(p: float, df: np.ndarray) -> np.ndarray:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (an array)."""
    df = np.asarray(df, dtype=float)
    try:
        from scipy.special import stdtrit  # noqa: PLC0415 (optional; special imports fast)
    except ImportError:  # pragma: no cover - depends on the installation
        z = _STANDARD.inv_cdf(p)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (
                z
                + (z**3 + z) / (4 * df)
                + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
                + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
            )
    return np.asarray(stdtrit(df, p), dtype=float)


def _t_two_sided_p(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Two-sided p-values of t statistics (normal when scipy is absent: large samples)."""
    try:
        from scipy.special import stdtr  # noqa: PLC0415
    except ImportError:  # pragma: no cover - depends on the installation
        return _two_sided_p(t)
    t = np.asarray(t, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.asarray(2 * stdtr(df, -np.abs(t)), dtype=float)


def _fisher(x1: int, n1: int, x0: int, n0: int) -> float:
    """Fisher's exact two-sided p-value, or NaN without scipy."""
    try:
        from scipy.stats import fisher_exact  # noqa: PLC0415 (optional, heavy)
    except ImportError:  # pragma: no cover - depends on the installation
        return math.nan
    return float(fisher_exact([[x1, n1 - x1], [x0, n0 - x0]])[1])


def proportion_lift(
    x1: np.ndarray, n1: np.ndarray, x0: np.ndarray, n0: np.ndarray, *, confidence: float = 0.95
) -> dict[str, np.ndarray]:
    """Rate of ``x1 / n1`` minus rate of ``x0 / n0``, per element.

    Returns ``rate1, rate0, lift, lift_low, lift_high`` (Newcombe's hybrid score interval),
    ``p_value`` (two-sided) and ``enough`` (each side has :data:`MIN_COUNT` successes and failures,
    so the z-test was used). NaN where a side has nobody.
    """
    x1, n1, x0, n0 = (np.asarray(a, dtype=float) for a in (x1, n1, x0, n0))
    z = z_quantile(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p0 = x1 / n1, x0 / n0
        lift, low, high = newcombe_interval(x1, n1, x0, n0, z)
        pooled = (x1 + x0) / (n1 + n0)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        stat = np.where(se > 0, lift / se, 0.0)
    p_value = np.where((n1 > 0) & (n0 > 0), _two_sided_p(stat), np.nan)
    enough = np.minimum.reduce([x1, n1 - x1, x0, n0 - x0]) >= MIN_COUNT
    for i in np.flatnonzero(~enough & (n1 > 0) & (n0 > 0) & (se > 0)):
        exact = _fisher(int(x1[i]), int(n1[i]), int(x0[i]), int(n0[i]))
        if not math.isnan(exact):
            p_value[i] = exact
    return {
        "rate1": p1,
        "rate0": p0,
        "lift": lift,
        "lift_low": low,
        "lift_high": high,
        "p_value": p_value,
        "enough": enough,
    }


def relative_lift(
    x1: np.ndarray, n1: np.ndarray, x0: np.ndarray, n0: np.ndarray, *, confidence: float = 0.95
) -> dict[str, np.ndarray]:
    """``(x1/n1) / (x0/n0) − 1`` with the log-ratio (Katz) interval: ``relative_lift,
    relative_lift_low, relative_lift_high`` (NaN when a side has no success)."""
    x1, n1, x0, n0 = (np.asarray(a, dtype=float) for a in (x1, n1, x0, n0))
    z = z_quantile(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (x1 / n1) / (x0 / n0)
        se = np.sqrt(1 / x1 - 1 / n1 + 1 / x0 - 1 / n0)
        usable = (x1 > 0) & (x0 > 0)
        log = np.log(np.where(usable, ratio, np.nan))
    return {
        "relative_lift": np.where(usable, ratio - 1, np.nan),
        "relative_lift_low": np.exp(log - z * se) - 1,
        "relative_lift_high": np.exp(log + z * se) - 1,
    }


def mean_lift(
    sum1: np.ndarray,
    squares1: np.ndarray,
    n1: np.ndarray,
    sum0: np.ndarray,
    squares0: np.ndarray,
    n0: np.ndarray,
    *,
    confidence: float = 0.95,
) -> dict[str, np.ndarray]:
    """Mean per person of side 1 minus side 0 from each side's sum, sum of squares and size.

    Returns ``mean1, mean0, lift, lift_low, lift_high`` (Welch's interval) and ``p_value``
    (Welch's t-test). NaN where a side has fewer than two people.
    """
    s1, q1, n1, s0, q0, n0 = (
        np.asarray(a, dtype=float) for a in (sum1, squares1, n1, sum0, squares0, n0)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        m1, m0 = s1 / n1, s0 / n0
        v1 = np.maximum(q1 - n1 * m1 * m1, 0) / (n1 - 1)
        v0 = np.maximum(q0 - n0 * m0 * m0, 0) / (n0 - 1)
        e1, e0 = v1 / n1, v0 / n0
        se = np.sqrt(e1 + e0)
        df = (e1 + e0) ** 2 / (e1 * e1 / (n1 - 1) + e0 * e0 / (n0 - 1))
        df = np.where(np.isfinite(df), df, np.minimum(n1, n0) - 1)
        lift = m1 - m0
        quantile = _t_quantile(0.5 + confidence / 2, np.maximum(df, 1.0))
        stat = np.where(se > 0, lift / se, 0.0)
    small = (n1 < 2) | (n0 < 2)
    p_value = np.where(small, np.nan, _t_two_sided_p(stat, np.maximum(df, 1.0)))
    return {
        "mean1": m1,
        "mean0": m0,
        "lift": lift,
        "lift_low": np.where(small, np.nan, lift - quantile * se),
        "lift_high": np.where(small, np.nan, lift + quantile * se),
        "p_value": p_value,
    }


def minimum_detectable_effect(
    rate0: np.ndarray,
    n1: np.ndarray,
    n0: np.ndarray,
    *,
    confidence: float = 0.95,
    power: float = 0.8,
) -> np.ndarray:
    """The smallest difference of rates (a fraction) that arms of ``n1`` and ``n0`` people detect
    with ``power`` at the two-sided level ``1 − confidence``, around the base rate ``rate0``.

    >>> mde = minimum_detectable_effect(np.array([0.05]), np.array([9000]), np.array([1000]))
    >>> round(float(mde[0]), 4)
    0.0204
    """
    rate0, n1, n0 = (np.asarray(a, dtype=float) for a in (rate0, n1, n0))
    spread = z_quantile(confidence) + _STANDARD.inv_cdf(power)
    with np.errstate(divide="ignore", invalid="ignore"):
        return spread * np.sqrt(rate0 * (1 - rate0) * (1 / n1 + 1 / n0))
