"""Bounded exponential backoff with jitter that honours ``Retry-After`` (tenacity based)."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import tenacity

from zoho_cscart_sync.http.errors import RateLimitedError, RetryableApiError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the transport tries before giving up; read from connection extras (see CONNECTIONS.md)."""

    max_attempts: int = 5
    initial_wait: float = 1.0
    max_wait: float = 60.0
    # A server asking us to wait longer than this means "stop now" rather than sleeping a task slot away.
    max_retry_after: float = 120.0

    @classmethod
    def from_extras(cls, extras: Mapping[str, Any]) -> RetryPolicy:
        """Build the policy from the connection extras, defaulting each missing key."""
        default = cls()
        return cls(
            max_attempts=int(extras.get("max_attempts", default.max_attempts)),
            initial_wait=float(extras.get("backoff_initial_seconds", default.initial_wait)),
            max_wait=float(extras.get("backoff_max_seconds", default.max_wait)),
            max_retry_after=float(extras.get("max_retry_after_seconds", default.max_retry_after)),
        )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date); None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def backoff_seconds(policy: RetryPolicy, attempt: int, retry_after: float | None = None) -> float:
    """Wait before retry number ``attempt`` (1-based): ``Retry-After`` if given, else exponential with jitter.

    "Equal jitter": half the exponential step is fixed and half random, so concurrent clients that failed
    together spread out but none retries immediately.
    """
    if retry_after is not None:
        # A little jitter on top keeps a burst of clients told "retry in 2 s" from returning in lockstep.
        return min(retry_after, policy.max_retry_after) + random.uniform(0, min(1.0, policy.initial_wait))  # noqa: S311
    step = min(policy.max_wait, policy.initial_wait * (2 ** max(0, attempt - 1)))
    return step / 2 + random.uniform(0, step / 2)  # noqa: S311


class RetryAfterOrExponential(tenacity.wait.wait_base):
    """tenacity wait strategy: the server's ``Retry-After`` when the last error carried one, else backoff."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = exc.retry_after if isinstance(exc, RateLimitedError) else None
        return backoff_seconds(self.policy, retry_state.attempt_number, retry_after)


def is_retryable(policy: RetryPolicy) -> Callable[[BaseException], bool]:
    """Predicate: transient errors retry; a Retry-After above the ceiling stops instead of sleeping."""

    def _predicate(exc: BaseException) -> bool:
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            return exc.retry_after <= policy.max_retry_after
        return isinstance(exc, RetryableApiError)

    return _predicate


def build_retrying(
    policy: RetryPolicy, *, wait: tenacity.wait.wait_base | None = None, describe: str = "request"
) -> tenacity.Retrying:
    """A ``tenacity.Retrying`` for one logical request; ``wait`` replaces the backoff (tests: wait_none())."""

    def _before_sleep(retry_state: tenacity.RetryCallState) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        sleep = retry_state.next_action.sleep if retry_state.next_action else 0.0
        log.warning(
            "%s: attempt %d/%d failed (%s); retrying in %.2fs",
            describe,
            retry_state.attempt_number,
            policy.max_attempts,
            type(exc).__name__ if exc else "?",
            sleep,
        )

    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.max_attempts),
        wait=wait or RetryAfterOrExponential(policy),
        retry=tenacity.retry_if_exception(is_retryable(policy)),
        before_sleep=_before_sleep,
        reraise=True,
    )
