"""The transition table itself: every status reachable, final statuses have no exits."""

from orders import transitions
from orders.enums import OrderStatus


def test_every_status_is_reachable_from_the_initial_one() -> None:
    seen = {transitions.INITIAL}
    frontier = [transitions.INITIAL]
    while frontier:
        for nxt in transitions.allowed_from(frontier.pop()):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(OrderStatus.values)


def test_final_statuses_have_no_exits() -> None:
    assert {OrderStatus.RETURNED, OrderStatus.CANCELLED} == transitions.TERMINAL
    for status in transitions.TERMINAL:
        assert not transitions.allowed_from(status)


def test_the_table_names_only_known_statuses() -> None:
    assert set(transitions.TRANSITIONS) == set(OrderStatus.values)
    for exits in transitions.TRANSITIONS.values():
        assert exits <= set(OrderStatus.values)


def test_the_lifecycle_is_the_documented_one() -> None:
    s = OrderStatus
    assert {
        s.UNHANDLED: {s.PAID, s.CANCELLED},
        s.PAID: {s.PICKING, s.CANCELLED},
        s.PICKING: {s.PACKED, s.PAID},
        s.PACKED: {s.SHIPPED},
        s.SHIPPED: {s.EXECUTED, s.RETURNED},
        s.EXECUTED: {s.RETURNED},
        s.RETURNED: set(),
        s.CANCELLED: set(),
    } == transitions.TRANSITIONS


def test_every_status_but_unhandled_stamps_its_time() -> None:
    assert set(transitions.STAMP_FIELD) == set(OrderStatus.values) - {OrderStatus.UNHANDLED}
