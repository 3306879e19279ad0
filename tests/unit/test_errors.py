"""Every exception the package defines derives from `MarketplaceError`, so one `except` catches
any project error (the command line relies on it to give each one a message and an exit status)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import marketplace
from marketplace.errors import MarketplaceError

# `python -m marketplace.cli` runs the command line as soon as it is imported.
SKIP: frozenset[str] = frozenset({"marketplace.cli.__main__"})


def project_exceptions() -> list[type[BaseException]]:
    """Every exception class defined (not imported) in a module of the package."""
    found: list[type[BaseException]] = []
    for info in pkgutil.walk_packages(marketplace.__path__, "marketplace."):
        if info.name in SKIP:
            continue
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == info.name:
                found.append(value)
    return found


def test_every_project_exception_derives_from_the_root() -> None:
    exceptions = project_exceptions()

    outside = [f"{e.__module__}.{e.__qualname__}" for e in exceptions
               if not issubclass(e, MarketplaceError)]

    assert len(exceptions) > 20  # the walk really found the package's errors
    assert outside == []
