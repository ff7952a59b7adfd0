"""Shared fixtures: every test session gets its own empty paperlib cache."""

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    old = os.environ.get("PAPERLIB_CACHE")
    os.environ["PAPERLIB_CACHE"] = str(tmp_path_factory.mktemp("paperlib-cache"))
    yield
    if old is None:
        os.environ.pop("PAPERLIB_CACHE", None)
    else:
        os.environ["PAPERLIB_CACHE"] = old
