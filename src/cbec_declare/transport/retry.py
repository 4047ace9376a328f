"""Retries with a bounded total time (tenacity underneath).

Retried: :class:`~cbec_declare.errors.ConnectError`, :class:`~cbec_declare.errors.TransportTimeout`
and :class:`~cbec_declare.errors.RemoteServerError` (5xx, 408, 429) — every error whose class says
``retryable`` — except a TLS failure. Never retried: a business rejection (chkMark 2 is a *result*,
not an error), a SOAP Fault or a 4xx (:class:`~cbec_declare.errors.RemoteRejected`), a bad
configuration.

Safety: the callers in this package build the request bytes **once** and every attempt posts those
same bytes — same ``guid``, same ``CopMsgId``, same AES ciphertext — so a retry after a lost answer
is a duplicate the platform can recognise, never a second declaration.

Bounds: at most ``attempts`` tries and ``deadline`` seconds in all, waits included. Each attempt is
told how many seconds remain, and the HTTP timeouts are cut to fit, so a server that never answers
costs ``deadline`` and not ``attempts × read_timeout``. Waits grow exponentially from ``backoff`` to
``max_backoff`` with up to ``jitter`` seconds of randomness, so that many clients do not retry in
step.

Logging (logger ``cbec_declare.transport``): each attempt at DEBUG, each failure at WARNING with the
error code and message. Messages carry no keys, no PINs and no plaintext: the errors raised in this
package are written that way.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import tenacity

from ..errors import CbecError, ConfigError, TransportError

__all__ = ["NON_RETRYABLE_CODES", "RetryPolicy", "clamp_timeout"]

log = logging.getLogger("cbec_declare.transport")

T = TypeVar("T")

#: Retryable classes whose particular cause will not heal by waiting.
NON_RETRYABLE_CODES = frozenset({"transport.connect.tls"})


def _positive(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not value > 0:
        raise ConfigError(
            f"RetryPolicy.{attribute.name} must be positive, got {value!r}", code="config.retry"
        )


def _not_negative(_: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value < 0:
        raise ConfigError(
            f"RetryPolicy.{attribute.name} must not be negative, got {value!r}", code="config.retry"
        )


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How often and how long to try. ``RetryPolicy.none()`` tries once.

    ``on_retry(what, error)`` is called before each retry (for metrics: the demo counts them with it).
    """

    attempts: int = attrs.field(default=4, validator=_positive)
    deadline: float = attrs.field(default=60.0, validator=_positive)
    backoff: float = attrs.field(default=0.5, validator=_not_negative)
    max_backoff: float = attrs.field(default=8.0, validator=_not_negative)
    jitter: float = attrs.field(default=0.25, validator=_not_negative)
    on_retry: Callable[[str, BaseException], None] | None = attrs.field(default=None, eq=False, repr=False)

    @classmethod
    def none(cls, *, deadline: float = 60.0) -> RetryPolicy:
        return cls(attempts=1, deadline=deadline)

    @staticmethod
    def should_retry(exc: BaseException) -> bool:
        return isinstance(exc, TransportError) and exc.retryable and exc.code not in NON_RETRYABLE_CODES

    def _wait(self, state: tenacity.RetryCallState) -> float:
        step = self.backoff * (2.0 ** (state.attempt_number - 1))
        return min(step, self.max_backoff) + random.uniform(0, self.jitter)  # noqa: S311 - not crypto

    def call(self, attempt: Callable[[float], T], *, what: str) -> T:
        """Run ``attempt(seconds_left)`` until it succeeds, fails for good, or time runs out."""
        deadline = time.monotonic() + self.deadline

        def wait(state: tenacity.RetryCallState) -> float:
            # Never sleep past the deadline (whatever order the tenacity version runs wait and stop in).
            return max(0.0, min(self._wait(state), deadline - time.monotonic()))

        def stop(state: tenacity.RetryCallState) -> bool:
            upcoming = state.upcoming_sleep or 0.0
            return state.attempt_number >= self.attempts or time.monotonic() + upcoming >= deadline

        def run() -> T:
            number = counter[0] = counter[0] + 1
            left = deadline - time.monotonic()
            log.debug("%s: attempt %d/%d (%.1f s left)", what, number, self.attempts, left)
            try:
                return attempt(left)
            except CbecError as exc:
                log.warning("%s: attempt %d/%d failed: %s", what, number, self.attempts, exc)
                raise

        def before_sleep(state: tenacity.RetryCallState) -> None:
            log.info("%s: retrying in %.2f s", what, state.upcoming_sleep or 0.0)
            if self.on_retry is not None and state.outcome is not None:
                error = state.outcome.exception()
                if error is not None:
                    self.on_retry(what, error)

        counter = [0]
        retrying = tenacity.Retrying(
            stop=stop,
            wait=wait,
            retry=tenacity.retry_if_exception(self.should_retry),
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(run)


def clamp_timeout(connect: float, read: float, left: float) -> tuple[float, float]:
    """HTTP (connect, read) timeouts that end by the deadline (never below 10 ms)."""
    left = max(left, 0.01)
    return min(connect, left), min(read, left)
