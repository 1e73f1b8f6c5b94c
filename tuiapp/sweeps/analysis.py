"""What a sweep's results say: spread over seeds, whether two settings differ beyond it, which setting matters.

Pure Python (no NumPy, no SciPy), so `sweep show` stays light; every figure here can be recomputed by a user:

- `mean_sd(values)`: the mean, the sample standard deviation and the count.
- `welch_p(a, b)`: the two-sided p-value of Welch's t-test (unequal variances) that two groups have the same mean.
- `importance(points, keys)`: each setting's share of the metric's variance over a grid, from a functional ANOVA
  of main effects: the variance of the metric's mean at each value of the setting (the others averaged over),
  divided by the metric's total variance. What the main effects leave is the interactions' share.
- `isolation(points, key)`: for each value of one setting, the best metric any case with that value reached.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

ALPHA = 0.05  # the significance level of "not distinguishable"


def mean_sd(values: Sequence[float]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (0 for one value) and count."""
    k = len(values)
    if not k:
        return math.nan, math.nan, 0
    mean = sum(values) / k
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (k - 1)) if k > 1 else 0.0
    return mean, sd, k


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (Lentz's method)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-12:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def student_t_two_sided(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with `df` degrees of freedom."""
    return incomplete_beta(df / 2.0, 0.5, df / (df + t * t))


def welch_p(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sided p-value of Welch's t-test; None when either group has fewer than two values."""
    ma, sa, ka = mean_sd(a)
    mb, sb, kb = mean_sd(b)
    if ka < 2 or kb < 2:
        return None
    va, vb = sa * sa / ka, sb * sb / kb
    if va + vb == 0:
        return 1.0 if ma == mb else 0.0
    t = (ma - mb) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / ((va * va) / (ka - 1) + (vb * vb) / (kb - 1))
    return student_t_two_sided(t, df)


def _key(value: Any) -> str:
    return repr(value)


def importance(points: list[tuple[dict[str, Any], float]], keys: list[str]) -> dict[str, float]:
    """Each setting's share (0 to 1) of the variance of the metric over the cases (main effects; see the module)."""
    values = [y for _, y in points if y is not None and math.isfinite(y)]
    usable = [(s, y) for s, y in points if y is not None and math.isfinite(y)]
    if len(values) < 2:
        return {k: 0.0 for k in keys}
    mean = sum(values) / len(values)
    total = sum((y - mean) ** 2 for y in values) / len(values)
    shares = {}
    for key in keys:
        groups: dict[str, list[float]] = {}
        for settings, y in usable:
            groups.setdefault(_key(settings.get(key)), []).append(y)
        between = sum(len(g) * (sum(g) / len(g) - mean) ** 2 for g in groups.values()) / len(values)
        shares[key] = between / total if total > 0 else 0.0
    return shares


def isolation(points: list[tuple[dict[str, Any], float]], key: str) -> list[tuple[Any, float]]:
    """For each value of `key` (in the order first seen): the best metric reached with it (the others at their
    best)."""
    best: dict[str, tuple[Any, float]] = {}
    for settings, y in points:
        if y is None or not math.isfinite(y):
            continue
        k = _key(settings.get(key))
        if k not in best or y > best[k][1]:
            best[k] = (settings.get(key), y)
    return list(best.values())


def reading(shares: dict[str, float], metric: str) -> str:
    """One line that says what the shares mean."""
    if not shares:
        return "nothing varies"
    top = max(shares, key=shares.get)
    rest = max(0.0, 1.0 - sum(shares.values()))
    return (f"{top} explains {shares[top]:.0%} of the variance of {metric}" +
            (f"; interactions and noise {rest:.0%}" if rest >= 0.05 else ""))
