"""DOMAIN.md's visibility table, written out once for the tests that hold the code to
it (copied from the document, never imported from ``domain.vocabulary``)."""

from __future__ import annotations

# "Categories of personal data".
ALL = frozenset(
    {"identity", "safety", "violence", "health", "children", "legal", "employment", "risk"}
)

# "Visibility: the most each kind of service may ever see".
ROW: dict[str, frozenset[str]] = {
    "cav": ALL,
    "health": frozenset({"identity", "safety", "violence", "health", "children", "risk"}),
    "police": frozenset({"identity", "safety", "violence", "children", "legal", "risk"}),
    "social_services": ALL - {"health"},
    "school": frozenset({"children"}),
    "employment": frozenset({"identity", "safety", "employment"}),
}

# "Services of the network (seed directory)": each service's kind.
SEED: dict[str, str] = {
    "cav-scirocco": "cav",
    "asst-rhodense": "health",
    "ic-alessandrini": "school",
    "ic-leonardo": "school",
    "pl-cesano": "police",
    "ss-cesano": "social_services",
    "afol-metropolitana": "employment",
    "osservatorio": "observatory",
    "garanzia-cesano": "oversight",
}


def rows_of(*service_ids: str) -> dict[str, frozenset[str]]:
    """The visibility row of each of these seed services, by service id."""
    return {s: ROW[SEED[s]] for s in service_ids}
