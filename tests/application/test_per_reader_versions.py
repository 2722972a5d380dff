"""A case's version, and so its ETag, is the reader's own: it moves when what that
service sees of the case changes, and only then. A write in a category a reader
may not see must not show through as a step in its version.

Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from support.stories import record_consent, refer

from application.rete import Rete


def test_the_police_see_no_step_for_a_note_they_may_not_read(rete: Rete, people) -> None:
    ref = rete.cases.open(people.anna).reference_code
    rete.cases.add_note(people.anna, ref, "violence", "what she told us")
    record_consent(
        rete,
        people.anna,
        ref,
        kinds=["police"],
        purposes=["protection_measures"],
        categories=["identity", "violence"],
    )
    refer(rete, people.anna, ref, "pl-cesano", kind="protection_measures", scope=["violence"])
    before = rete.cases.get(people.paolo, ref)
    owner_before = rete.cases.get(people.anna, ref).version

    rete.cases.add_note(people.anna, ref, "health", "what the psychologist found")
    rete.cases.add_note(people.anna, ref, "identity", "her new address")  # not in scope
    after = rete.cases.get(people.paolo, ref)
    assert after == before
    assert after.version == before.version
    assert rete.cases.get(people.anna, ref).version == owner_before + 2

    rete.cases.add_note(people.anna, ref, "violence", "he came back")
    seen = rete.cases.get(people.paolo, ref)
    assert seen.version > before.version
    listed = {c.reference_code: c.version for c in rete.cases.list(people.paolo).items}
    assert listed[ref] == seen.version
