"""``regwatch run`` as a process: the run loop, signals and logging.

Signals:

- ``SIGTERM`` / ``SIGINT``: no new jobs start; running checks get ``grace``
  seconds (25) to finish, then they are abandoned — a check commits in one
  transaction, so an abandoned check leaves nothing half-written and is
  simply redone at the next start. Exit code 0.
- ``SIGHUP``: reload the configuration: sources and routes added, removed or
  rescheduled. A broken new file is reported (the ConfigError line) and the
  running configuration stays. ``[store] url`` changes need a restart.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from monitor.config import Config
from monitor.errors import RegwatchError
from monitor.service.run import DEFAULT_GRACE, Service

log = logging.getLogger("regwatch.service")


def run_service(
    config_path: str, *, stop_event: threading.Event | None = None, grace: float = DEFAULT_GRACE
) -> None:
    """Run the service until SIGTERM/SIGINT (or ``stop_event`` is set).

    In a process (``regwatch run``), logs follow ``[service] log_format`` and
    abandoned jobs end with the process. In-process (tests), pass a
    ``threading.Event`` and set it to stop. ``REGWATCH_STOP_GRACE`` (seconds)
    overrides ``grace``: keep it below the supervisor's stop timeout."""
    in_process = stop_event is not None
    stop = stop_event or threading.Event()
    grace = float(os.environ.get("REGWATCH_STOP_GRACE", grace))
    reload_wanted = threading.Event()
    service = Service(config_path, grace=grace)
    if not in_process:
        _setup_logging(service.config)
    restore = _install_signals(stop, reload_wanted)
    finished, started = True, False
    try:
        service.start()
        started = True
        while not stop.wait(0.2):
            if reload_wanted.is_set():
                reload_wanted.clear()
                before = service.config.service.log_format
                if (
                    service.reload()
                    and not in_process
                    and service.config.service.log_format != before
                ):
                    _setup_logging(service.config)
            if not service.scheduler_alive():
                raise RegwatchError(
                    "the scheduler stopped unexpectedly; exiting so that the "
                    "supervisor restarts the service"
                )
        log.info("stopping: waiting up to %.0fs for running jobs", service.grace)
    finally:
        if started:
            finished = service.stop()
        restore()
    if not finished and not in_process:
        logging.shutdown()
        sys.stderr.flush()
        os._exit(0)


def _setup_logging(config: Config) -> None:
    from monitor.app import setup_logging

    verbose = logging.getLogger().level == logging.DEBUG
    setup_logging(verbose, fmt=config.service.log_format)


def _install_signals(stop: threading.Event, reload_wanted: threading.Event) -> Callable[[], None]:
    """SIGTERM/SIGINT stop, SIGHUP reloads; only possible in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()  # no logging here: a signal handler must not take the logging lock

    def on_hup(_signum: int, _frame: FrameType | None) -> None:
        reload_wanted.set()

    previous = {
        sig: signal.signal(sig, handler)
        for sig, handler in (
            (signal.SIGTERM, on_stop),
            (signal.SIGINT, on_stop),
            (signal.SIGHUP, on_hup),
        )
    }

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
