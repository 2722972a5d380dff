"""What the channels' stories plant in a case: personal strings no announcement,
event, email or webhook may ever carry."""

from __future__ import annotations

NAME = "Graziella Pantaleoni-Vigevano"
NOTE = "lives above the pharmacy in via Roma 14"
REASON = "her ex-partner Ettore Brambillasca threatened her with a knife"
JUSTIFICATION = "immediate danger reported by Graziella herself"
PLANTED = (NAME, "Graziella", "Pantaleoni", NOTE, "via Roma", "Brambillasca", "knife")
