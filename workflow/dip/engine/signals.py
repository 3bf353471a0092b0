"""Stop signals a running fit hears: it finishes the iteration, saves a checkpoint and stops."""

from __future__ import annotations

import contextlib
import signal
import threading

#: Signals that stop a fit cleanly: it finishes the iteration, saves a checkpoint and raises
#: Stopped. SIGTERM is what a scheduler sends at a time limit, SIGUSR1 a common warning.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1)

class Stopped(RuntimeError):
    """A stop signal arrived; the fit saved its state at ``iteration`` and returned."""

    def __init__(self, signum: int, iteration: int):
        self.signal_name, self.iteration = signal.Signals(signum).name, iteration
        super().__init__(f"stopped by {self.signal_name} after iteration {iteration}")


@contextlib.contextmanager
def stop_requests():
    """A list that collects the stop signals received meanwhile (the handlers only record
    them, so a checkpoint being written is never cut short); old handlers come back after.
    Outside the main thread no handler can be set and the list stays empty."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = {sig: signal.signal(sig, lambda signum, frame: received.append(signum))
                for sig in STOP_SIGNALS}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


