"""Foster care supplement (pleegzorgtoeslag) — ruleset v1 §5.2; decree art. 16.

A child in a foster placement belongs to the foster household for the placement (all its components are paid
there) and gets the foster supplement on top, for each month placed (the placement covers the day whose state
counts for the month). **[decision]** Short- and long-term placements alike.
"""
COMPONENT = "foster"
LEGAL = "Groeipakketdecreet 27.04.2018, art. 16; ruleset v1 §5.2"


def applies_to(calc, child) -> bool:
    return bool(child.placements)


def compute(cm):
    place = cm.calc.child_household(cm.child, cm.month)
    placement = place[2] if place else None
    if placement is None:
        return None
    amount = cm.param("foster")
    return cm.line(COMPONENT, amount.value, f"foster placement ({placement.kind}) in this household", LEGAL,
                   (amount,), (("placement_from", placement.start.isoformat()),), (placement.source,))
