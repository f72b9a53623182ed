"""RenderedVars.get: the rendered value, or the default for a name the host does not set.

Its own `get` skips Mapping.get's KeyError round trip (issue 18: about a hundred lookups per
host); these pin that it answers as Mapping.get would.
"""

from __future__ import annotations

import pytest

from remediate.connect.templating import RenderedVars
from remediate.errors import InputError
from remediate.inventory.model import Host, Origin


def _vars(variables: dict[str, object]) -> RenderedVars:
    origins = {key: Origin("hosts.yml", index + 1) for index, key in enumerate(variables)}
    host = Host("ex01.corp.local", variables, ("all",), origins, Origin("hosts.yml", 1))
    return RenderedVars(host, environ={})


def test_get_renders_and_keeps_the_value() -> None:
    rendered = _vars({"user": "audit", "login": "{{ user }}@corp", "nothing": None})
    assert rendered.get("login") == "audit@corp"
    assert rendered.get("login", "x") == "audit@corp"  # second read: from the cache
    assert rendered.get("nothing", "x") is None  # set to None is not absent


def test_get_of_an_absent_name_is_the_default() -> None:
    rendered = _vars({"user": "audit"})
    assert rendered.get("ansible_password") is None
    assert rendered.get("ansible_password", "d") == "d"
    assert rendered.get("inventory_hostname") is None  # magic names are not keys
    with pytest.raises(KeyError):
        rendered["ansible_password"]


def test_get_of_a_value_that_cannot_be_rendered_raises() -> None:
    rendered = _vars({"login": "{{ nobody }}"})
    with pytest.raises(InputError, match="nobody"):
        rendered.get("login")
