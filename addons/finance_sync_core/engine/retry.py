"""Retry policy: exponential backoff with jitter, configured per job type (data, not code)."""
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base: float = 10.0  # seconds before the 2nd attempt
    factor: float = 2.0
    maximum: float = 3600.0
    jitter: float = 0.25  # +/- fraction of the delay

    def delay(self, failed_attempts, retry_after=None, rng=random):
        """Seconds to wait after ``failed_attempts`` failures (1 = the first attempt failed).

        ``retry_after`` from the server is a floor, never shortened by jitter.
        """
        if failed_attempts < 1:
            raise ValueError("failed_attempts starts at 1")
        raw = self.base * (self.factor ** min(failed_attempts - 1, 64))
        if self.jitter:
            raw *= 1 + rng.uniform(-self.jitter, self.jitter)
        raw = max(0.0, min(self.maximum, raw))  # the cap holds after jitter
        if retry_after is not None:
            raw = max(raw, float(retry_after))
        return raw

    def exhausted(self, attempts):
        """True once ``attempts`` runs used up the budget."""
        return attempts >= self.max_attempts
