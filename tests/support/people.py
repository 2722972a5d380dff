"""The people of the network who act in the stories, by nickname."""

from __future__ import annotations

from types import SimpleNamespace

from application.rete import Rete

# nickname -> (service, roles)
PEOPLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "anna": ("cav-scirocco", ("caseworker",)),
    "chiara": ("cav-scirocco", ("coordinator",)),
    "bea": ("ss-cesano", ("caseworker",)),
    "bruna": ("ss-cesano", ("coordinator",)),
    "paolo": ("pl-cesano", ("caseworker",)),
    "marta": ("asst-rhodense", ("caseworker",)),
    "mirella": ("asst-rhodense", ("coordinator",)),
    "lia": ("ic-alessandrini", ("caseworker",)),
    "ugo": ("garanzia-cesano", ("auditor",)),
    "olga": ("osservatorio", ("analyst",)),
    "oli": ("osservatorio", ("analyst",)),
}


def people_of(rete: Rete) -> SimpleNamespace:
    """Every person of ``PEOPLE`` as the application's actor: ``people.anna``."""
    return SimpleNamespace(
        **{name: rete.ctx.identify(name, sid, roles) for name, (sid, roles) in PEOPLE.items()}
    )
