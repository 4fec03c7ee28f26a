"""Registry look-ups (sknumpynet.nn.registry.lookup): an unknown name is named
with the allowed keys, and the registries stay plain dicts."""

import pytest

from sknumpynet.nn import ACTIVATIONS, HEADS, INITIALIZERS, OPTIMIZERS
from sknumpynet.nn.registry import lookup
from sknumpynet.nn.schedules import SCHEDULES

REGISTRIES = {
    "ACTIVATIONS": ACTIVATIONS,
    "HEADS": HEADS,
    "INITIALIZERS": INITIALIZERS,
    "OPTIMIZERS": OPTIMIZERS,
    "SCHEDULES": SCHEDULES,
}


@pytest.mark.parametrize("registry", sorted(REGISTRIES))
def test_lookup_returns_every_entry(registry):
    table = REGISTRIES[registry]
    for key, entry in table.items():
        assert lookup(table, key, "argument") is entry


@pytest.mark.parametrize("registry", sorted(REGISTRIES))
@pytest.mark.parametrize("name", ["nope", ["relu"], None])
def test_lookup_names_the_argument_and_the_keys(registry, name):
    table = REGISTRIES[registry]
    with pytest.raises(ValueError, match=r"^argument: unknown .*; one of \[") as info:
        lookup(table, name, "argument")
    assert str(sorted(table)) in str(info.value)


@pytest.mark.parametrize("registry", sorted(REGISTRIES))
def test_registries_keep_their_dict_behaviour(registry):
    table = REGISTRIES[registry]
    assert "nope" not in table and table.get("nope") is None
    with pytest.raises(KeyError):
        table["nope"]
