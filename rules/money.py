"""Money: integer cents, exact fractions, half-up rounding to the cent (ruleset: "half-up to the cent")."""
from __future__ import annotations

from fractions import Fraction


def round_half_up(value: Fraction) -> int:
    """Round an exact amount of cents to a whole cent, .5 away from zero."""
    if value >= 0:
        return (value.numerator * 2 + value.denominator) // (2 * value.denominator)
    return -round_half_up(-value)


def euro(cents: int | Fraction) -> str:
    """``17666`` → ``"176.66"`` (a fraction is rounded half-up for display)."""
    if isinstance(cents, Fraction):
        cents = round_half_up(cents)
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"
