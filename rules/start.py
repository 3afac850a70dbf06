"""Starting amount (startbedrag), birth and adoption grant — ruleset v1 §7; decree art. 12–13.

Once per child, at birth or adoption (born or adopted from 2019-01-01), the amount in force on the date of birth
(adoption: the date the child joins the family) **[decision]**. Period: the month of birth or adoption. It needs
the child's household to be domiciled in Flanders on that date, not the other entitlement conditions. Never twice
for the same child: an adoption grant only when no birth grant was due.
"""
import datetime as dt

from rules.periods import month_of

COMPONENT = "start"
LEGAL = "Groeipakketdecreet 27.04.2018, art. 12-13; ruleset v1 §7"
FROM = dt.date(2019, 1, 1)


def _flemish_on(child, day) -> tuple[bool, str | None]:
    membership = child.membership_on(day)
    return (membership is not None and membership.region == "flanders"), (membership.source if membership else None)


def compute(cm):
    child = cm.child
    birth, adopted = child.birth_date, child.adopted_on
    if cm.month != child.birth_month and (adopted is None or cm.month != month_of(adopted)):
        return None  # neither the month of birth nor the month of adoption
    at_birth = birth >= FROM and _flemish_on(child, birth)[0]
    if at_birth and cm.month == child.birth_month:
        amount = cm.calc.params["start"].require(birth)
        return cm.line(COMPONENT, amount.value, f"birth grant: born {birth.isoformat()} with domicile in Flanders",
                       LEGAL, (amount,), (("birth_date", birth.isoformat()),), (_flemish_on(child, birth)[1],))
    if adopted is None or at_birth or adopted < FROM or cm.month != month_of(adopted):
        return None
    flemish, source = _flemish_on(child, adopted)
    if not flemish:
        return None
    amount = cm.calc.params["start"].require(adopted)
    return cm.line(COMPONENT, amount.value, f"adoption grant: joined the family on {adopted.isoformat()} with "
                   f"domicile in Flanders", LEGAL, (amount,), (("joined_on", adopted.isoformat()),),
                   (child.adoption_source, source))
