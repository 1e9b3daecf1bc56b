"""The numbers of a satisfaction survey: exact fractions shown to two places, shares, the 95%
confidence interval of a mean and Welch's test of a change (Student's t, in floating point,
rounded to two places), and what counts as satisfied or low on a 5- or 10-point scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from propfee.core.i18n import _


def fmt(value: Fraction | None, places: int = 2) -> str:
    """An exact fraction to ``places`` decimals, halves rounded up; None is ``—``."""
    if value is None:
        return "—"
    quantum = Decimal(1).scaleb(-places)
    return str(
        (Decimal(value.numerator) / Decimal(value.denominator)).quantize(quantum, ROUND_HALF_UP)
    )


def percent(value: Fraction | None, places: int = 1) -> str:
    return "—" if value is None else fmt(value * 100, places) + "%"


def ratio(numerator: int, denominator: int) -> Fraction | None:
    return Fraction(numerator, denominator) if denominator else None


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularised incomplete beta function (Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-14:
            break
    return h


def _betai(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with ``df`` degrees of freedom."""
    return _betai(df / 2.0, 0.5, df / (df + t * t))


def t_critical(df: float, level: float = 0.95) -> float:
    """The two-sided critical value of Student's t (1.96 as df grows)."""
    low, high = 0.0, 1000.0
    for _step in range(200):
        mid = (low + high) / 2
        if t_two_sided_p(mid, df) > 1 - level:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _variance(scores: list[int], mean: Fraction) -> Fraction:
    """The sample variance (n − 1), exactly."""
    return sum(((s - mean) ** 2 for s in scores), Fraction(0)) / (len(scores) - 1)


def confidence_interval(scores: list[int], scale: int) -> tuple[Fraction, Fraction] | None:
    """The 95% confidence interval of the mean, by Student's t, kept within the scale (1 to
    ``scale``); None below two answers. Each bound is worked out in floating point and
    rounded once, to two places (a mean of 3.625 ± 0.2235 is 3.40 … 3.85)."""
    n = len(scores)
    if n < 2:
        return None
    mean = Fraction(sum(scores), n)
    half = t_critical(n - 1) * math.sqrt(float(_variance(scores, mean)) / n)

    def bound(value: float) -> Fraction:
        return Fraction(Decimal(repr(value)).quantize(Decimal("0.01"), ROUND_HALF_UP))

    low_end, high_end = bound(float(mean) - half), bound(float(mean) + half)
    return max(low_end, Fraction(1)), min(high_end, Fraction(scale))


@dataclass
class Change:
    previous_mean: Fraction | None
    delta: Fraction | None
    p_value: float | None
    beyond_noise: bool | None  # None: not enough answers to tell

    @property
    def statement(self) -> str:
        if self.delta is None:
            return _("not asked last time")
        if self.beyond_noise is None:
            return _("too few answers to tell")
        if not self.beyond_noise:
            return _("within the margin of error")
        if self.delta > 0:
            return _("up, beyond the margin of error")
        return _("down, beyond the margin of error")


def welch(current: list[int], previous: list[int]) -> Change:
    """The change in the mean from ``previous`` to ``current``, and whether Welch's
    two-sample t test finds it beyond the noise at 95% (p < 0.05)."""
    if not previous or not current:
        return Change(None, None, None, None)
    m1, m0 = Fraction(sum(current), len(current)), Fraction(sum(previous), len(previous))
    delta = m1 - m0
    if len(current) < 2 or len(previous) < 2:
        return Change(m0, delta, None, None)
    v1 = _variance(current, m1) / len(current)
    v0 = _variance(previous, m0) / len(previous)
    se2 = v1 + v0
    if se2 == 0:
        return Change(m0, delta, 0.0 if delta else 1.0, delta != 0)
    t = float(delta) / math.sqrt(float(se2))
    df = float(se2) ** 2 / (
        (float(v1) ** 2 / (len(current) - 1) if v1 else 0.0)
        + (float(v0) ** 2 / (len(previous) - 1) if v0 else 0.0)
    )
    p = t_two_sided_p(t, df)
    return Change(m0, delta, round(p, 4), p < 0.05)


def satisfied(score: int, scale: int) -> bool:
    """4–5 of 5; on a 10-point scale 8–10 (a score of at least 0.8 × the scale)."""
    return score * 5 >= 4 * scale


def low(score: int, scale: int) -> bool:
    """1–2 of 5; on a 10-point scale 1–4 (a score of at most 0.4 × the scale)."""
    return score * 5 <= 2 * scale


def on_five(value: Fraction, scale: int) -> Fraction:
    return value * 5 / scale
