"""`tffix.frame_room`: a call made with room on the frame stack behaves as the plain call."""

import sys

import pytest

from tffix import frame_room


def test_with_room_returns_what_the_function_returns_for_its_arguments():
    assert frame_room.with_room(divmod, 17, 5) == (3, 2)
    assert frame_room.with_room(lambda *args: args) == ()


def test_with_room_lets_the_functions_exception_through():
    with pytest.raises(ZeroDivisionError):
        frame_room.with_room(divmod, 1, 0)


def test_the_function_is_called_from_a_frame_of_slots_local_variables():
    def caller_locals() -> int:
        return sys._getframe(1).f_code.co_nlocals

    assert caller_locals() < 100
    assert frame_room.with_room(caller_locals) >= frame_room.SLOTS


def test_deep_recursion_inside_works_and_unwinds():
    def depth(n: int) -> int:
        return 0 if n == 0 else 1 + depth(n - 1)

    assert frame_room.with_room(depth, 500) == 500
    assert frame_room.with_room(depth, 3) == 3
