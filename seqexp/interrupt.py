"""Ctrl-C and SIGTERM stop a run at once, but never in the middle of writing a file.

While a run trains, both signals raise `Interrupted` (a KeyboardInterrupt, so Keras and
TensorFlow unwind as they do for Ctrl-C). Code that writes an artifact runs inside
`deferred()`: a signal that arrives there is held until the write is complete, so the run
directory is never left with a torn checkpoint, history or metrics file.

Python drops an exception raised while it runs a `__del__` method or a weakref callback (it
prints "Exception ignored in ..."), and a signal handler runs wherever the main thread is,
TensorFlow's object finalizers included. So every signal is also recorded, and
`raise_if_signalled()`, called between training batches, raises the one whose exception was lost.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

# signal -> (how the run's reason reads, the exit code of a process it ended)
SIGNALS = {
    signal.SIGINT: ("stopped by the user (Ctrl-C)", 130),
    signal.SIGTERM: ("stopped by SIGTERM", 143),
}


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal; `reason` and `exit_code` follow the signal."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(SIGNALS[signum][0])
        self.signum = signum
        self.reason, self.exit_code = SIGNALS[signum]


def as_interrupted(err: KeyboardInterrupt) -> Interrupted:
    """A plain KeyboardInterrupt (raised by Python's own handler) counts as Ctrl-C."""
    return err if isinstance(err, Interrupted) else Interrupted(signal.SIGINT)


_pending: list[int] = []  # signals held back by deferred()
_received: list[int] = []  # every signal handled since stop_on_signals() began
_depth = 0  # nesting of deferred() blocks


def _handle(signum, frame) -> None:
    _received.append(signum)
    if _depth:
        _pending.append(signum)
        return
    raise Interrupted(signum)


@contextmanager
def deferred():
    """Hold SIGINT/SIGTERM until the block is done, then raise for the first one held."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if not _depth and _pending:
            signum = _pending[0]
            _pending.clear()
            raise Interrupted(signum)


def raise_if_signalled() -> None:
    """Raise `Interrupted` if a signal came in since stop_on_signals() began, outside deferred().

    Normally the handler's own exception has already ended the block; this catches the one
    Python dropped because the handler ran inside a finalizer."""
    if _received and not _depth:
        raise Interrupted(_received[0])


@contextmanager
def stop_on_signals():
    """Install the handlers for the block (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _handle) for signum in SIGNALS}
    _pending.clear()
    _received.clear()
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
