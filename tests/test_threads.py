import pytest

import kernn


def test_set_and_get_num_threads_round_trip():
    before = kernn.get_num_threads()
    try:
        kernn.set_num_threads(1)
        assert kernn.get_num_threads() == 1
    finally:
        kernn.set_num_threads(before)


def test_set_num_threads_rejects_zero():
    with pytest.raises(ValueError, match="set_num_threads"):
        kernn.set_num_threads(0)
