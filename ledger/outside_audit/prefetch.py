"""Reading ahead: the next pages of entries are fetched in a thread while this one hashes and
checks the page in hand, so the server's time and the auditor's overlap. At most `ahead` items
wait, so memory stays flat; an error in the reader reaches the consumer in its place."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
PUT_POLL_S = 0.1


@dataclass(frozen=True)
class _Raised:
    error: BaseException


class _End:
    pass


class Prefetched(Generic[T]):
    """Iterates what `produce()` yields, produced in a thread of its own; `close()` (or leaving
    the `with` block) stops the thread, however far the consumer got."""

    def __init__(self, produce: Callable[[], Iterator[T]], ahead: int) -> None:
        self._queue: queue.Queue[T | _Raised | _End] = queue.Queue(maxsize=ahead)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(produce,),
                                        name="audit-page-reader", daemon=True)
        self._thread.start()

    def _run(self, produce: Callable[[], Iterator[T]]) -> None:
        try:
            for item in produce():
                if not self._put(item):
                    return
        except BaseException as error:  # handed to the consumer, which raises it
            self._put(_Raised(error))
            return
        self._put(_End())

    def _put(self, item: T | _Raised | _End) -> bool:
        while not self._stopping.is_set():
            try:
                self._queue.put(item, timeout=PUT_POLL_S)
            except queue.Full:
                continue
            return True
        return False

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if isinstance(item, _End):
                return
            if isinstance(item, _Raised):
                raise item.error
            yield item

    def close(self) -> None:
        self._stopping.set()
        self._thread.join()

    def __enter__(self) -> Prefetched[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
