"""Pure engine modules: state machine, retry policy, secret encryption (no database)."""
import random
import unittest

from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st

from ..engine import crypto
from ..engine import states as S
from ..engine.retry import RetryPolicy


class TestStateMachine(unittest.TestCase):
    def test_every_allowed_transition(self):
        expected = {
            ("claim", S.PENDING): S.RUNNING,
            ("succeed", S.RUNNING): S.DONE,
            ("retry_later", S.RUNNING): S.PENDING,
            ("recover", S.RUNNING): S.PENDING,
            ("fail", S.RUNNING): S.FAILED,
            ("requeue", S.FAILED): S.PENDING,
            ("requeue", S.CANCELLED): S.PENDING,
            ("resolve", S.FAILED): S.DONE,
            ("cancel", S.PENDING): S.CANCELLED,
            ("cancel", S.FAILED): S.CANCELLED,
        }
        for (transition, current), result in expected.items():
            self.assertEqual(S.target(transition, current), result, (transition, current))

    def test_forbidden_transitions_raise(self):
        states = [s for s, _label in S.STATES]
        allowed = {(t, s) for t, (sources, _r) in S.TRANSITIONS.items() for s in sources}
        for transition in S.TRANSITIONS:
            for current in states:
                if (transition, current) in allowed:
                    continue
                with self.assertRaises(S.InvalidTransition, msg=(transition, current)):
                    S.target(transition, current)

    def test_done_is_terminal_and_running_cannot_be_cancelled(self):
        for transition in S.TRANSITIONS:
            with self.assertRaises(S.InvalidTransition):
                S.target(transition, S.DONE)
        with self.assertRaises(S.InvalidTransition):
            S.target("cancel", S.RUNNING)


class TestRetryPolicy(unittest.TestCase):
    def test_schedule_without_jitter_doubles_up_to_the_cap(self):
        policy = RetryPolicy(max_attempts=8, base=10, factor=2, maximum=100, jitter=0)
        self.assertEqual([policy.delay(n) for n in range(1, 7)], [10, 20, 40, 80, 100, 100])

    def test_retry_after_is_a_floor(self):
        policy = RetryPolicy(base=1, factor=2, maximum=60, jitter=0.5)
        self.assertGreaterEqual(policy.delay(1, retry_after=30, rng=random.Random(1)), 30)

    def test_exhausted(self):
        policy = RetryPolicy(max_attempts=3)
        self.assertFalse(policy.exhausted(2))
        self.assertTrue(policy.exhausted(3))

    @settings(max_examples=200, deadline=None)
    @given(attempt=st.integers(1, 40), base=st.floats(0.1, 100), factor=st.floats(1, 4),
           jitter=st.floats(0, 0.9), seed=st.integers(0, 2**32))
    def test_jitter_stays_within_bounds(self, attempt, base, factor, jitter, seed):
        policy = RetryPolicy(base=base, factor=factor, maximum=base * 1000, jitter=jitter)
        raw = min(policy.maximum, base * factor ** (attempt - 1))
        delay = policy.delay(attempt, rng=random.Random(seed))
        self.assertGreaterEqual(delay, raw * (1 - jitter) - 1e-9)
        self.assertLessEqual(delay, raw * (1 + jitter) + 1e-9)


class TestCrypto(unittest.TestCase):
    def test_roundtrip_and_rotation(self):
        old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
        token = crypto.encrypt(crypto.parse_keys(old), "s3cr3t")
        self.assertNotIn("s3cr3t", token)
        ring = crypto.parse_keys("%s,%s" % (new, old))
        self.assertEqual(crypto.decrypt(ring, token), "s3cr3t")
        rotated = crypto.rotate(ring, token)
        self.assertEqual(crypto.decrypt(crypto.parse_keys(new), rotated), "s3cr3t")
        with self.assertRaises(crypto.DecryptionFailed):
            crypto.decrypt(crypto.parse_keys(old), rotated)

    def test_missing_or_bad_key_is_a_clear_error(self):
        with self.assertRaisesRegex(crypto.KeyMissing, "finance_sync_encryption_key"):
            crypto.parse_keys("")
        with self.assertRaisesRegex(crypto.KeyMissing, "not a valid Fernet key"):
            crypto.parse_keys("not-a-key")
