"""A/B variants with a hold-out: a stable split of the recipients, and the test that reads the result.

- :func:`assign_variants` puts each number in an arm by a keyed hash of its normalised form: the same
  person lands in the same arm on re-planning, in any process, on any machine; shares are met within
  sampling noise (±0.5 % on 100k numbers in practice).
- :func:`plan_variants` (as ``plan_campaign(df, {"A": …, "B": …}, holdout=0.1)``) plans each arm
  with its own template — every variant is checked for length and charset like a single template — and
  joins the arms into one :class:`VariantPlan` with a ``variant`` column; hold-out rows that would have
  been sent get status ``holdout`` and are not sent.
- :func:`two_proportion_test` compares two rates (reply, opt-out …) with ``scipy.stats``: p-value, 95 %
  interval of the difference, and a verdict that says plainly when the sample is too small to tell.

>>> import pandas as pd, smscampaign as sc
>>> people = pd.DataFrame({"mobile": [str(13800000000 + i) for i in range(1000)], "status": "ok"})
>>> plan = sc.plan_campaign(people, {"A": "周末八折【小店】", "B": "周末满百减二十【小店】"},
...                         holdout=0.1, seed="spring")
>>> plan.recipients["variant"].value_counts().sort_index().to_dict()            # doctest: +SKIP
{'A': 452, 'B': 449, 'holdout': 99}
"""

from __future__ import annotations

import hashlib
import html
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Final

import numpy as np
import pandas as pd

from smscampaign.campaign.plan_model import Plan
from smscampaign.campaign.plan_options import PlanOptions
from smscampaign.campaign.planning import plan_template
from smscampaign.core.errors import ConfigError, PlanError
from smscampaign.core.statuses import OptionalPlanStatus
from smscampaign.stages.numbers import TEXT

__all__ = [
    "HOLDOUT",
    "MIN_COUNT",
    "VariantPlan",
    "assign_variants",
    "newcombe_interval",
    "plan_variants",
    "two_proportion_test",
    "wilson_interval",
]

logger = logging.getLogger(__name__)

#: The ``variant`` (and ``status``) of rows held out of an A/B test.
HOLDOUT: Final = OptionalPlanStatus.HOLDOUT
#: The normal approximation is trusted when each arm has at least this many successes and failures.
MIN_COUNT: Final = 5
_HASH_VERSION: Final = b"smscampaign-variant-v1"
_MASK64: Final = (1 << 64) - 1


# -- the split -------------------------------------------------------------------------------


def _seed_keys(seed: Any) -> tuple[np.uint64, np.uint64, bytes]:
    """Two 64-bit keys and a BLAKE2b key derived from ``seed`` (its ``str``), the same in any process."""
    digest = hashlib.blake2b(
        str(seed).encode("utf-8"), digest_size=32, person=_HASH_VERSION[:16]
    ).digest()
    return (
        np.uint64(int.from_bytes(digest[:8], "little")),
        np.uint64(int.from_bytes(digest[8:16], "little")),
        digest[16:],
    )


def _mix(z: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser (wrapping uint64 arithmetic): a bijection that scatters every bit."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _unit_hash(keys: pd.Series, seed: Any) -> np.ndarray:
    """A number in [0, 1) per key, uniform and fixed by (key, seed); NaN where the key is missing.

    Keys of 1–18 digits (normalised mobiles) are hashed as integers with a keyed SplitMix64, in numpy;
    any other text with keyed BLAKE2b. Both are fixed by this code, never by ``hash()``.
    """
    k1, k2, blake_key = _seed_keys(seed)
    text = pd.Series(keys, copy=False).astype(TEXT).reset_index(drop=True)
    out = np.full(len(text), np.nan)
    present = text.notna().to_numpy()
    digits = present & text.str.fullmatch(r"\d{1,18}").fillna(False).to_numpy(dtype=bool)
    if digits.any():
        values = text[digits].astype("int64").to_numpy().astype(np.uint64)
        with np.errstate(over="ignore"):
            h = _mix(_mix(values ^ k1) + k2)
        out[digits] = (h >> np.uint64(11)).astype(np.float64) * 2.0**-53
    other = present & ~digits
    for i in np.flatnonzero(other):
        h64 = hashlib.blake2b(str(text.iloc[i]).encode("utf-8"), key=blake_key, digest_size=8)
        out[i] = (int.from_bytes(h64.digest(), "little") >> 11) * 2.0**-53
    return out


def _shares(variants: Sequence[str] | Mapping[str, float]) -> dict[str, float]:
    if isinstance(variants, Mapping):
        shares = {str(k): float(v) for k, v in variants.items()}
    elif isinstance(variants, str):
        raise ConfigError("variants must be several names or a mapping of name to share, not one string")
    else:
        names = [str(v) for v in variants]
        shares = {name: 1.0 for name in names}
        if len(shares) != len(names):
            raise ConfigError(f"variant names must be distinct: {names}")
    if not shares:
        raise ConfigError("at least one variant is needed")
    for name, share in shares.items():
        if not name or name == HOLDOUT:
            raise ConfigError(f"{name!r} cannot name a variant")
        if not math.isfinite(share) or share <= 0:
            raise ConfigError(f"the share of variant {name!r} must be positive, not {share}")
    total = sum(shares.values())
    return {name: share / total for name, share in shares.items()}


def _check_holdout(holdout: Any) -> float:
    if isinstance(holdout, bool) or not isinstance(holdout, int | float) or not 0 <= holdout < 1:
        raise ConfigError(f"holdout must be a share from 0 to below 1 (e.g. 0.1), not {holdout!r}")
    return float(holdout)


def assign_variants(
    mobiles: pd.Series | Sequence[Any],
    variants: Sequence[str] | Mapping[str, float],
    *,
    holdout: float = 0.0,
    seed: Any = 0,
) -> pd.Series:
    """The arm of each number: a variant name, :data:`HOLDOUT`, or ``<NA>`` where there is no number.

    ``variants`` are names (equal shares) or a mapping of name to share of the sent part; ``holdout`` is
    the share kept out first. The arm is fixed by the normalised number and ``seed`` alone: the same
    person lands in the same arm on re-planning and in any process (a different ``seed`` reshuffles).
    Text as :data:`~smscampaign.stages.numbers.TEXT`, with the index of ``mobiles`` (not modified).

    >>> assign_variants(["13800138000", "13800138000", None], ["A", "B"], seed=1).tolist()
    ['A', 'A', <NA>]
    """
    from smscampaign.stages.numbers import normalize_numbers  # noqa: PLC0415

    shares = _shares(variants)
    cut = _check_holdout(holdout)
    series = mobiles if isinstance(mobiles, pd.Series) else pd.Series(list(mobiles), dtype=object)
    normalized = pd.Series(normalize_numbers(series), copy=False).reset_index(drop=True)
    raw = series.reset_index(drop=True).astype(object)
    raw = raw.where(raw.notna(), None).map(lambda v: None if v is None else (str(v).strip() or None))
    keys = normalized.astype(object).where(normalized.notna(), raw)
    u = _unit_hash(pd.Series(keys, dtype=TEXT), seed)
    names = np.array([HOLDOUT, *shares], dtype=object)
    edges = cut + (1 - cut) * np.cumsum(list(shares.values()))
    edges[-1] = 1.0 + 1e-12  # every u < 1 falls in an arm
    arm = np.where(u < cut, 0, 1 + np.searchsorted(edges, u, side="right"))
    arm = np.minimum(arm, len(names) - 1)
    out = pd.Series(names[arm], dtype=object)
    out[np.isnan(u)] = None
    return pd.Series(out.to_numpy(), index=series.index, dtype=TEXT, name="variant")


# -- planning --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class VariantPlan(Plan):
    """The plan of an A/B test: a :class:`~smscampaign.Plan` whose rows carry a ``variant``.

    Everything a Plan has (``recipients``, ``batches``, ``fingerprint`` …; ``template`` reads
    ``A: … | B: …``), plus ``variants`` (name → template), ``holdout`` (share), ``seed`` and ``arms``
    (the plan of each variant). Rows of the hold-out that would have been sent have status ``holdout``.
    """

    variants: dict[str, str] = field(default_factory=dict)
    holdout: float = 0.0
    seed: str = ""
    arms: dict[str, Plan] = field(default_factory=dict)

    def __repr__(self) -> str:
        arms = ", ".join(f"{name} {plan.messages}" for name, plan in self.arms.items())
        held = int((self.recipients["status"] == HOLDOUT).sum())
        return super().__repr__().replace("<Plan", f"<VariantPlan [{arms}, {HOLDOUT} {held}]", 1)

    def _repr_html_(self) -> str:
        arms = "".join(
            f"<tr><td>{html.escape(name)}</td><td style='text-align:right'>{plan.messages:,}</td></tr>"
            for name, plan in self.arms.items()
        )
        held = int((self.recipients["status"] == HOLDOUT).sum())
        return (
            "<div><table><thead><tr><th>variant</th><th>ready</th></tr></thead>"
            f"<tbody>{arms}<tr><td>{HOLDOUT}</td><td style='text-align:right'>{held:,}</td></tr>"
            f"</tbody></table></div>{super()._repr_html_()}"
        )


def plan_variants(
    recipients: pd.DataFrame,
    variants: Mapping[str, str],
    *,
    holdout: float = 0.0,
    seed: Any = None,
    **options: Any,
) -> VariantPlan:
    """Plan an A/B test: each row's arm by :func:`assign_variants`, each arm planned with its template.

    ``options`` are :func:`~smscampaign.plan_campaign`'s (signature, charset, suppress …), applied
    to every arm, so every variant is checked for length and charset like a single template. Arms
    share the sent part equally; ``holdout`` rows are planned with the first variant and those that
    would be ``ready`` become ``holdout`` (no content, not sent): the hold-out stays comparable.
    ``seed=None`` derives the seed from the variants, so re-planning the same test keeps every person in
    their arm; pass a seed to keep the split while you edit a wording. ``recipients`` is not modified.
    """
    return plan_arms(recipients, variants, holdout=holdout, seed=seed, options=PlanOptions(**options))


def plan_arms(
    recipients: pd.DataFrame,
    variants: Mapping[str, str],
    *,
    holdout: float,
    seed: Any,
    options: PlanOptions,
) -> VariantPlan:
    """:func:`plan_variants` with the options of every arm as one value (what ``plan_campaign``
    calls for an A/B test)."""
    if not isinstance(variants, Mapping) or not variants:
        raise PlanError("variants must be a mapping of name to template, e.g. {'A': …, 'B': …}")
    templates = {str(name): tmpl for name, tmpl in variants.items()}
    for name, tmpl in templates.items():
        if not isinstance(tmpl, str):
            raise PlanError(f"the template of variant {name!r} must be text, not {type(tmpl).__name__}")
    try:
        cut = _check_holdout(holdout)
        names = list(_shares(list(templates)))
    except ConfigError as exc:
        raise PlanError(str(exc)) from None
    if not isinstance(recipients, pd.DataFrame) or "mobile" not in recipients.columns:
        plan_template(recipients, templates[names[0]], options)  # raises the plain PlanError
    seed_text = (
        str(seed)
        if seed is not None
        else hashlib.sha256(repr(sorted(templates.items())).encode("utf-8")).hexdigest()[:16]
    )
    arm = assign_variants(recipients["mobile"], names, holdout=cut, seed=seed_text)
    arm_values = arm.to_numpy(dtype=object, na_value=None)
    # Rows without a number (no arm) go with the first variant: they are invalid whatever the arm.
    arm_values = np.where(pd.isna(arm_values), names[0], arm_values)
    pieces: list[pd.DataFrame] = []
    positions: list[np.ndarray] = []
    batches: list[pd.DataFrame] = []
    arms: dict[str, Any] = {}
    offset = 0
    for name in [*names, HOLDOUT]:
        rows = np.flatnonzero(arm_values == name)
        tmpl = templates[names[0] if name == HOLDOUT else name]
        part = plan_template(recipients.iloc[rows], tmpl, options)
        out = part.recipients.copy(deep=False)
        if name == HOLDOUT:
            held = (out["status"] == "ready").to_numpy()
            out["status"] = out["status"].mask(held, HOLDOUT)
            out["reason"] = out["reason"].mask(
                held, f"hold-out group ({cut:.0%}): not sent, for comparison"
            )
            out["content"] = out["content"].mask(held, None)
            out["length"] = out["length"].mask(held, None)
            out["batch"] = out["batch"].mask(held, None)
        else:
            arms[name] = part
            out["batch"] = out["batch"] + offset
            if len(part.batches):
                shifted = part.batches.copy()
                shifted["batch"] = shifted["batch"] + offset
                batches.append(shifted)
            offset += len(part.batches)
        out["variant"] = (
            pd.Series(name, index=range(len(rows)), dtype=TEXT)
            .mask(arm.iloc[rows].isna().to_numpy())
            .to_numpy()
        )
        pieces.append(out)
        positions.append(rows)
    joined = pd.concat(pieces, ignore_index=True)
    order = np.argsort(np.concatenate(positions), kind="stable")
    joined = joined.take(order)
    joined.index = recipients.index
    joined["variant"] = joined["variant"].astype(TEXT)
    joined.attrs = dict(pieces[0].attrs)
    first = arms[names[0]]
    all_batches = pd.concat(batches, ignore_index=True) if batches else first.batches.iloc[0:0].copy()
    digest = hashlib.sha256(_HASH_VERSION)
    for name in names:
        for part_text in (name, arms[name].fingerprint):
            data = part_text.encode("utf-8")
            digest.update(len(data).to_bytes(8, "little") + data)
    base = {f.name: getattr(first, f.name) for f in fields(Plan)}
    base.update(
        recipients=joined,
        batches=all_batches,
        template=" | ".join(f"{name}: {templates[name]}" for name in names),
        messages=sum(p.messages for p in arms.values()),
        fingerprint=digest.hexdigest(),
    )
    plan = VariantPlan(**base, variants=templates, holdout=cut, seed=seed_text, arms=arms)
    logger.info(
        "A/B plan: %s; %d held out",
        ", ".join(f"{n} {p.messages} ready" for n, p in arms.items()),
        int((joined["status"] == HOLDOUT).sum()),
    )
    return plan


# -- the test --------------------------------------------------------------------------------


def wilson_interval(successes: Any, n: Any, z: float) -> tuple[Any, Any]:
    """Wilson's score interval of ``successes / n`` at the normal quantile ``z``; numbers or numpy
    arrays (element-wise; NaN where ``n`` is 0)."""
    x, size = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / size
        centre = (p + z * z / (2 * size)) / (1 + z * z / size)
        half = z * np.sqrt(p * (1 - p) / size + z * z / (4 * size * size)) / (1 + z * z / size)
    low, high = np.maximum(0.0, centre - half), np.minimum(1.0, centre + half)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def newcombe_interval(x1: Any, n1: Any, x0: Any, n0: Any, z: float) -> tuple[Any, Any, Any]:
    """``x1 / n1 − x0 / n0`` and Newcombe's hybrid score interval of it (from each side's
    :func:`wilson_interval`), at the normal quantile ``z``; numbers or numpy arrays (element-wise).
    What :func:`two_proportion_test` and the lift against a hold-out
    (:mod:`smscampaign.reports.lift`) report."""
    a1, s1, a0, s0 = (np.asarray(v, dtype=float) for v in (x1, n1, x0, n0))
    l1, u1 = wilson_interval(a1, s1, z)
    l0, u0 = wilson_interval(a0, s0, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p0 = a1 / s1, a0 / s0
        diff = p1 - p0
        low = diff - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
        high = diff + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    if np.ndim(diff) == 0:
        return float(diff), float(low), float(high)
    return diff, low, high


def two_proportion_test(
    successes_a: int,
    n_a: int,
    successes_b: int,
    n_b: int,
    *,
    confidence: float = 0.95,
    labels: tuple[str, str] = ("A", "B"),
) -> dict[str, Any]:
    """Compare the rates ``successes_b / n_b`` and ``successes_a / n_a`` (B − A).

    Returns ``rate_a, rate_b, difference`` (B − A), ``ci_low, ci_high`` (Newcombe's hybrid score
    interval of the difference, good for small samples), ``p_value`` (two-sided: pooled z-test when each
    arm has at least :data:`MIN_COUNT` successes and failures, Fisher's exact test otherwise), ``test``,
    ``enough`` (whether the sample can tell) and ``verdict``, one plain sentence. Needs ``scipy``
    (``pip install smscampaign[stats]``).

    >>> two_proportion_test(30, 1000, 60, 1000)["verdict"]                     # doctest: +ELLIPSIS
    'B is higher than A: +3.0 points (95 % interval +1.2 to +4.9), p = 0.0...'
    >>> two_proportion_test(1, 20, 3, 20)["verdict"]                           # doctest: +ELLIPSIS
    'too small to tell: ...'
    """
    try:
        from scipy import stats  # noqa: PLC0415 (optional, heavy)
    except ImportError:  # pragma: no cover - depends on the installation
        raise ConfigError(
            "the two-proportion test needs scipy: pip install 'smscampaign[stats]'"
        ) from None
    counts = (successes_a, n_a, successes_b, n_b)
    if any(isinstance(c, bool) or int(c) != c or c < 0 for c in counts):
        raise ConfigError(f"counts must be whole numbers ≥ 0, not {counts}")
    sa, na, sb, nb = (int(c) for c in counts)
    if sa > na or sb > nb:
        raise ConfigError(f"successes cannot exceed the sample: {sa}/{na}, {sb}/{nb}")
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must be between 0 and 1, not {confidence}")
    a, b = labels
    level = f"{confidence:.0%}".replace("%", " %")
    out: dict[str, Any] = {
        "rate_a": sa / na if na else math.nan,
        "rate_b": sb / nb if nb else math.nan,
        "difference": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "p_value": math.nan,
        "test": None,
        "enough": False,
        "verdict": f"nothing to compare: {a if not na else b} has no recipients",
    }
    if not na or not nb:
        return out
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    pa_, pb_ = sa / na, sb / nb
    diff, low, high = newcombe_interval(sb, nb, sa, na, z)
    if pa_ == pb_ and pa_ in (0.0, 1.0):  # no variation at all: nothing can differ
        out.update(difference=0.0, ci_low=low, ci_high=high, p_value=1.0, test=None, enough=True)
        out["verdict"] = f"no difference: {pa_:.0%} in both {a} and {b}"
        return out
    enough = min(sa, na - sa, sb, nb - sb) >= MIN_COUNT
    if enough:
        pooled = (sa + sb) / (na + nb)
        se = math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
        p_value = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else 1.0
        test = "two-proportion z-test"
    else:
        p_value = float(stats.fisher_exact([[sb, nb - sb], [sa, na - sa]])[1])
        test = "Fisher's exact test"
    out.update(difference=diff, ci_low=low, ci_high=high, p_value=p_value, test=test, enough=enough)
    interval = f"{level} interval {low * 100:+.1f} to {high * 100:+.1f}"
    if not enough:
        out["verdict"] = (
            f"too small to tell: each arm needs at least {MIN_COUNT} with and {MIN_COUNT} without "
            f"({a} {sa}/{na}, {b} {sb}/{nb}); {interval} points, p = {p_value:.2g}"
        )
    elif p_value < 1 - confidence:
        direction = "higher" if diff > 0 else "lower"
        out["verdict"] = (
            f"{b} is {direction} than {a}: {diff * 100:+.1f} points ({interval}), p = {p_value:.2g}"
        )
    else:
        out["verdict"] = (
            f"no clear difference between {b} and {a}: {diff * 100:+.1f} points ({interval}), "
            f"p = {p_value:.2g}"
        )
    return out
