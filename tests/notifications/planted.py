"""What the channels' stories plant in a case: personal strings no announcement,
event, email or webhook may ever carry; and the emergency referral that carries them."""

from __future__ import annotations

from types import SimpleNamespace

from support.stories import refer_to_protect

from application.rete import Rete

NAME = "Graziella Pantaleoni-Vigevano"
NOTE = "lives above the pharmacy in via Roma 14"
REASON = "her ex-partner Ettore Brambillasca threatened her with a knife"
JUSTIFICATION = "immediate danger reported by Graziella herself"
PLANTED = (NAME, "Graziella", "Pantaleoni", NOTE, "via Roma", "Brambillasca", "knife")


def emergency(rete: Rete, people: SimpleNamespace, planted: bool = False) -> str:
    """A case at the CAV (with her name and address when ``planted``), referred in an
    emergency to the police; the referral's id."""
    case = rete.cases.open(people.anna)
    if planted:
        rete.cases.add_note(people.anna, case.reference_code, "identity", f"{NAME}, {NOTE}")
    referral = refer_to_protect(rete, people.chiara, case.reference_code, REASON, JUSTIFICATION)
    return str(referral.id)
