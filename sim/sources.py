"""What the authentic sources report on a simulated family: school enrolments and attendance (education),
childcare attendance (*kinderopvang*), tax assessments (*aanslagbiljet*) and cadastral income (*kadastraal
inkomen*).

A mixin of :class:`sim.family.Household`; it uses the household's ``w`` (the world), ``c`` (the config), ``rng``
and its methods ``emit`` and ``recorded``. The reports follow the timing rules of :mod:`sim.population`.
"""
from __future__ import annotations

import datetime as dt
import math

from sim.dates import add_years, month_first, month_index, month_last, month_text
from sim.world import ChildTraits, Person


# Indexation coefficients of the cadastral income by income year (FOD Financiën; 2025 approximate).
KI_INDEX = {2017: 1.7491, 2018: 1.7745, 2019: 1.7863, 2020: 1.8230, 2021: 1.8492, 2022: 1.9084, 2023: 2.0915,
            2024: 2.1763, 2025: 2.2446}
# NIS codes of Flemish municipalities (cadastral parcel ids start with the cadastral division code).
NIS_CODES = (11002, 12025, 13040, 21004, 23088, 24062, 31005, 34022, 35013, 37015, 41002, 44021, 45041, 46021,
             71016, 72003, 73032)


class SourceReports:
    """``education.*``, ``childcare.attendance``, ``tax.assessed`` and ``property.assessed`` of a household."""

    def school_level(self, child: Person, year: int) -> tuple[str | None, dt.date | None, bool, int]:
        """(level, from_date, enrolled, credits) of the child in the school year starting in ``year``."""
        traits: ChildTraits = child.traits
        grade = year - child.birth.year
        september = dt.date(year, 9, 1)
        if traits.home_school:
            return None, None, False, 0
        if grade <= 5:
            if grade < 2 or not traits.preschool:
                return None, None, False, 0
            if grade == 2 and not traits.early_preschool:
                return None, None, False, 0
            entry = child.birth + dt.timedelta(days=913)  # 2.5 years: enters on the first of the next month
            entry = month_first(month_index(entry) + 1)
            if not traits.early_preschool:
                entry = max(entry, add_years(child.birth, 3))
            start = max(september, entry)
            if start > dt.date(year + 1, 6, 30):
                return None, None, False, 0
            return "preschool", start, True, 0
        if grade <= 11:
            return "primary", september, True, 0
        if grade <= 17 + traits.delay:
            return "secondary", september, True, 0
        study_year = grade - 18 - traits.delay
        if 0 <= study_year < traits.higher_years:
            credits = (self.low_credits(child, study_year) if study_year in traits.low_credit_years else 60)
            return "higher", september, True, credits
        return None, None, False, 0

    def low_credits(self, child: Person, study_year: int) -> int:
        return 12 + (int(child.insz[6:9]) * 7 + study_year * 13) % 15  # 12..26, fixed per child and year

    def education(self, child: Person) -> None:
        w = self.w
        end = min(w.E, child.died or w.E, child.left_flanders or w.E)
        for year in w.school_years:
            level, start, enrolled, credits = self.school_level(child, year)
            if not enrolled or start > end or (child.died and child.died < start) or start < child.birth:
                continue
            if child.left_flanders and child.left_flanders <= start:
                continue
            data = {"school_year": f"{year}-{year + 1}", "level": level, "from_date": start.isoformat()}
            if level == "higher":
                data["credits"] = credits
            self.emit("education.enrolled", child.insz, start, self.recorded(start, 0, 20), data)
            if level in ("preschool", "primary", "secondary"):
                self.attendance(child, year, level, start, end)

    def attendance(self, child: Person, year: int, level: str, start: dt.date, end: dt.date) -> None:
        rng, traits = self.rng, child.traits
        school_year = f"{year}-{year + 1}"
        if level == "preschool":
            attended = 0.0
            for month in range(month_index(start), year * 12 + 18):  # .. June of year + 1
                as_of = month_last(month)
                if as_of > end:
                    break
                attended += max(0.0, traits.attendance + rng.gauss(0.0, 2.0))
                attended = min(attended, 40.0 * (month - year * 12 - 7))
                self.emit("education.attendance", child.insz, as_of, self.recorded(as_of, 2, 10),
                          {"school_year": school_year, "preschool_half_days": int(attended),
                           "unauthorised_absence_half_days": 0, "as_of": as_of.isoformat()})
        else:
            for share, as_of in ((0.4, dt.date(year, 12, 31)), (0.7, dt.date(year + 1, 3, 31)),
                                 (1.0, dt.date(year + 1, 6, 30))):
                if as_of > end:
                    break
                self.emit("education.attendance", child.insz, as_of, self.recorded(as_of, 2, 10),
                          {"school_year": school_year, "preschool_half_days": 0,
                           "unauthorised_absence_half_days": int(traits.absence * share), "as_of": as_of.isoformat()})

    def childcare(self, child: Person) -> None:
        traits: ChildTraits = child.traits
        if not traits.childcare:
            return
        w, rng = self.w, self.rng
        first = max(w.first_month, month_index(child.birth) + traits.cc_start)
        preschool_start = None
        for year in range(child.birth.year + 2, child.birth.year + 4):
            level, start, enrolled, _ = self.school_level(child, year)
            if enrolled and level == "preschool":
                preschool_start = start
                break
        last = month_index(preschool_start) - 1 if preschool_start else (child.birth.year + 3) * 12 + 7
        last = min(last, w.last_month)
        for month in range(first, last + 1):
            day = month_first(month)
            if (child.died and child.died < day) or (child.left_flanders and child.left_flanders < day):
                break
            factor = 0.5 if month % 12 == 7 else 0.8 if month % 12 in (6, 11) else 1.0
            full = max(0, min(20, round((traits.cc_days + rng.randint(-2, 2)) * factor)))
            half = rng.randint(0, 3) if rng.random() < 0.4 else 0
            self.emit("childcare.attendance", child.insz, day, self.recorded(month_first(month + 1), 1, 12),
                      {"month": month_text(month), "full_days": full, "half_days": half,
                       "income_related": traits.cc_income_related})

    def tax(self, person: Person) -> None:
        c, w, rng = self.c, self.w, self.rng
        if person.no_tax:
            return
        income = person.income * math.exp(rng.gauss(0.0, 0.03))
        for year in w.income_years:
            income *= 1.0 + rng.gauss(c.income_growth, 0.05) if year != w.income_years[0] else 1.0
            income = max(income, 0.0)
            allocation = dt.date(year + 2, 9, 1)
            if rng.random() < c.late_tax_rate:
                low = max(allocation + dt.timedelta(days=10), w.S)
                high = max(low, min(allocation + dt.timedelta(days=330), w.E))
            else:
                low, high = dt.date(year + 1, 6, 15), dt.date(year + 2, 6, 30)
            span = (high - low).days
            day = low + dt.timedelta(days=int(span * rng.random() * rng.random() ** 0.5))  # earlier more likely
            self.emit("tax.assessed", person.insz, day, self.recorded(day, 0, 3), self.tax_data(person, year, income))
            if rng.random() < c.revised_tax_rate:
                revised = day + dt.timedelta(days=rng.randint(60, 400))
                if revised > w.E:
                    revised = max(day + dt.timedelta(days=1), min(revised, w.E))
                self.emit("tax.assessed", person.insz, revised, self.recorded(revised, 0, 3),
                          self.tax_data(person, year, max(0.0, income * rng.gauss(1.0, 0.1))))

    def tax_data(self, person: Person, year: int, income: float) -> dict:
        employed = income * (1.0 - person.self_employed)
        data = {"income_year": year, "taxable_income_cents": int(round(employed * 100))}
        if person.self_employed:
            data["self_employed_net_cents"] = int(round(income * person.self_employed * 80))  # net = 80 %
        if person.maintenance:
            data["partner_maintenance_received_cents"] = int(round(person.maintenance * 100))
        return data

    def property(self, owners: list[Person]) -> None:
        c, rng, w = self.c, self.rng, self.w
        if not owners:
            return
        parcels = []
        if rng.random() < c.own_home_rate:
            parcels.append(("own_home", owners, math.exp(rng.gauss(math.log(1_000), 0.35))))
        if rng.random() < c.other_property_rate:
            holders = owners if rng.random() < 0.5 else owners[:1]
            parcels.append(("other", holders, math.exp(rng.gauss(math.log(750), 0.5))))
        for owner in owners:
            if owner.self_employed and rng.random() < c.professional_property_rate:
                parcels.append(("professional", [owner], math.exp(rng.gauss(math.log(1_200), 0.5))))
        for use, holders, ki in parcels:
            parcel = (f"{NIS_CODES[int(rng.random() * len(NIS_CODES))]}{'ABCDEFGH'[int(rng.random() * 8)]}"
                      f"{rng.randint(1, 2999):04d}/{rng.randint(0, 9):02d}{'ABCDEFGHK'[int(rng.random() * 9)]}000")
            share = 100 // len(holders)
            for year in w.income_years:
                indexed = int(round(ki * KI_INDEX.get(year, 2.2446 * 1.02 ** (year - 2025)) * 100))
                occurred = dt.date(year + 1, 1, 1)
                for holder in holders:
                    self.emit("property.assessed", holder.insz, occurred, self.recorded(occurred, 20, 150),
                              {"income_year": year, "parcel_id": parcel, "use": use, "ki_indexed_cents": indexed,
                               "share_percent": share})

