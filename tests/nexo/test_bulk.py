"""`collector_paused`: the cyclic GC is off inside, and its previous state comes back."""

from __future__ import annotations

import gc

import pytest

from miot_harness.nexo.bulk import collector_paused


def test_the_collector_is_paused_inside_and_restored_even_after_an_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_already_disabled_stays_disabled():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
