"""Values derived from a catalogue or a tool set, computed once per object rather than per run.

A catalogue dict and a booted tool set are never changed in place: a refresh or a new boot
makes new objects. So what is derived from them can be keyed by their identity, which is
cheap to compute where their contents are not (a catalogue holds thousands of strings).
Each entry holds its arguments, so an id cannot be reused by another object while the entry
lives; the least recently used entry goes when the cache is full.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def _part(arg: Any) -> Hashable:
    """A string, number or tuple by value; anything unhashable (a dict, a list) by identity."""
    try:
        hash(arg)
    except TypeError:
        return ("id", id(arg))
    return arg


def by_identity(maxsize: int = 8) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Cache a function of objects never changed in place (positional arguments only)."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        entries: OrderedDict[tuple[Hashable, ...], tuple[tuple[Any, ...], R]] = OrderedDict()
        # Faces may call from worker threads; the value is computed outside the lock.
        lock = threading.Lock()

        @functools.wraps(function)
        def cached(*args: P.args, **kwargs: P.kwargs) -> R:
            if kwargs:
                raise TypeError(f"{function.__name__} takes positional arguments only")
            key = tuple(_part(arg) for arg in args)
            with lock:
                entry = entries.get(key)
                if entry is not None:
                    entries.move_to_end(key)
                    return entry[1]
            value = function(*args)  # type: ignore[call-arg]
            with lock:
                entries[key] = (args, value)
                if len(entries) > maxsize:
                    entries.popitem(last=False)
            return value

        return cached

    return decorate
