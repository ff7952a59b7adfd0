"""The table-driven check every chapter's tests run on its validation cell (chapter kit, item 1)."""

from __future__ import annotations

import pytest


def notebook_namespace(params, given: dict) -> dict:
    """What a chapter notebook's globals hold after papermill injected ``given``: every declared
    parameter at its notebook default (None, ``device="auto"``), the injected values, and the
    kernel's input history with papermill's ``# Parameters`` cell."""
    injected = "# Parameters\n" + "".join(f"{k} = {v!r}\n" for k, v in given.items())
    defaults = {name: None for name in params.names} | {"profile": "embedded", "device": "auto"}
    return {"In": ["", injected]} | defaults | given


def assert_rejected(config_class, params, given: dict, names: list[str]) -> None:
    """``config_class.from_namespace`` raises a ValueError whose message contains every one of ``names``
    (the parameter and what is allowed)."""
    with pytest.raises(ValueError) as err:
        config_class.from_namespace(notebook_namespace(params, given))
    for n in names:
        assert n in str(err.value), (n, str(err.value))
