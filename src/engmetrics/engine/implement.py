"""Implementing an area's interface at run time: a subclass of the interface whose abstract methods are given.

The remote engine (each operation over HTTP) and the unavailable engine (each method raising the store's error)
build their areas this way, so an operation added to an interface needs no code in either. An interface is passed
as its constructor (``Callable[[], A]``): mypy accepts no abstract class where ``type[A]`` is asked.
"""

from __future__ import annotations

from abc import ABCMeta
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar, cast

A = TypeVar("A")

Method = Callable[..., Awaitable[object]]
"""An async method (its first argument is the area instance)."""


def interface_class(interface: Callable[[], A]) -> ABCMeta:
    """``interface`` as the abstract class it is (`TypeError` for anything else)."""
    if not isinstance(interface, ABCMeta):
        raise TypeError(f"{interface!r} is not an area interface (an abstract class)")
    return interface


def abstract_methods(interface: Callable[[], A]) -> frozenset[str]:
    """Names of the methods an implementation of ``interface`` must give."""
    return interface_class(interface).__abstractmethods__


def implement(interface: Callable[[], A], methods: Mapping[str, Method], prefix: str) -> A:
    """An instance of ``prefix + interface's name``, a subclass of ``interface`` with ``methods`` (one for each of
    its abstract methods: `TypeError` when one is missing)."""
    base = interface_class(interface)
    missing = base.__abstractmethods__ - methods.keys()
    if missing:
        raise TypeError(f"{prefix}{base.__name__} lacks {', '.join(sorted(missing))}")
    cls = ABCMeta(f"{prefix}{base.__name__}", (base,), dict(methods))
    return cast(A, cls())  # an instance of a subclass of interface (made just above), so an A
