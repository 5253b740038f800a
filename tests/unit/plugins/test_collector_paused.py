"""The inventory build pauses Python's cycle collector and always gives it back as it found it."""

import gc

import pytest
from ansible_collections.groundwork.infra.plugins.plugin_utils.aws_inventory import collector_paused


@pytest.fixture
def collector_state():
    was_enabled = gc.isenabled()
    yield
    if was_enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector_state")
def test_the_collector_is_paused_inside_and_back_after():
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_state")
def test_a_failed_build_gives_the_collector_back():
    gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("AWS said no")
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_state")
def test_a_collector_someone_else_disabled_stays_disabled():
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()
