"""``RETE_DATABASE_URL``'s ``?schema=``: a plain name, given to every part alike, or
a one-line error naming the variable; never written into a statement as it is."""

from __future__ import annotations

import pytest

from infrastructure.db import split_schema
from infrastructure.settings import SettingsError, load_settings

SERVER = "postgresql://rete@127.0.0.1:5432/rete"


@pytest.mark.parametrize(
    "schema", ["bad;drop", "x y", "9lives", 'quo"te', "a" * 64, "sch%C3%A9ma", "a-b"]
)
def test_a_schema_that_is_not_a_plain_name_is_refused_naming_the_setting(schema: str) -> None:
    settings = load_settings({"RETE_DATABASE_URL": f"{SERVER}?schema={schema}"})
    with pytest.raises(SettingsError, match=r"^RETE_DATABASE_URL: the schema .* plain name"):
        settings.eventsourcing_env()


@pytest.mark.parametrize("schema", ["rete", "Rete_2", "_x", "a" * 63])
def test_a_plain_schema_goes_to_the_event_store_and_to_our_tables_alike(schema: str) -> None:
    url = f"{SERVER}?schema={schema}&connect_timeout=3"
    env = load_settings({"RETE_DATABASE_URL": url}).eventsourcing_env()
    assert env["POSTGRES_SCHEMA"] == schema
    assert split_schema(url) == (f"{SERVER}?connect_timeout=3", schema)


def test_no_schema_is_the_servers_default() -> None:
    env = load_settings({"RETE_DATABASE_URL": SERVER}).eventsourcing_env()
    assert "POSTGRES_SCHEMA" not in env
    assert split_schema(SERVER) == (SERVER, "public")
