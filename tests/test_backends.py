"""What one application saves, a second one on the same storage reads back.

Proves the ``backend`` fixture on both SQLite and PostgreSQL: a restarted
process (a new Application on the same environment) sees earlier events.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Note(Aggregate):
    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text

    @event("Amended")
    def amend(self, text: str) -> None:
        self.text = text


class Notes(Application[UUID]):
    def write(self, text: str) -> UUID:
        note = Note(text)
        self.save(note)
        return note.id

    def amend(self, note_id: UUID, text: str) -> None:
        note: Note = self.repository.get(note_id)
        note.amend(text)
        self.save(note)

    def text_of(self, note_id: UUID) -> str:
        note: Note = self.repository.get(note_id)
        return note.text


def test_a_second_application_reads_what_the_first_saved(backend: dict[str, str]) -> None:
    first = Notes(env=backend)
    try:
        note_id = first.write("a school refers")
        first.amend(note_id, "a school refers; the CAV accepts")
    finally:
        first.close()

    second = Notes(env=backend)
    try:
        assert second.text_of(note_id) == "a school refers; the CAV accepts"
        assert second.repository.get(note_id).version == 2
        notifications = second.notification_log.select(start=1, limit=10)
        assert [n.originator_id for n in notifications] == [note_id, note_id]
    finally:
        second.close()
