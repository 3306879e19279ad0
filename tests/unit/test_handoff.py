"""put_unless_stopped: a producer's hand-off that a stopped consumer cannot leave waiting."""

from __future__ import annotations

import queue
import threading

from marketplace.handoff import put_unless_stopped


def test_an_item_is_put_when_there_is_room() -> None:
    out: queue.Queue[int] = queue.Queue(maxsize=1)
    assert put_unless_stopped(out, 7, threading.Event())
    assert out.get_nowait() == 7


def test_a_full_queue_is_given_up_once_stop_is_set() -> None:
    out: queue.Queue[int] = queue.Queue(maxsize=1)
    out.put(1)
    stop = threading.Event()
    result: list[bool] = []
    producer = threading.Thread(target=lambda: result.append(put_unless_stopped(out, 2, stop)))
    producer.start()
    stop.set()
    producer.join()  # ends: it would wait for ever without the stop
    assert result == [False]
    assert out.get_nowait() == 1 and out.empty()


def test_a_waiting_producer_puts_once_the_consumer_takes() -> None:
    out: queue.Queue[int] = queue.Queue(maxsize=1)
    out.put(1)
    stop = threading.Event()
    result: list[bool] = []
    producer = threading.Thread(target=lambda: result.append(put_unless_stopped(out, 2, stop)))
    producer.start()
    assert out.get() == 1
    assert out.get() == 2  # blocks until the producer has put it
    producer.join()
    assert result == [True]


def test_nothing_is_put_when_stop_is_already_set() -> None:
    out: queue.Queue[int] = queue.Queue(maxsize=1)
    stop = threading.Event()
    stop.set()
    assert not put_unless_stopped(out, 3, stop)
    assert out.empty()
