"""The job state machine, in one place.

``pending`` -> ``running`` -> ``done``; ``running`` -> ``pending`` (retry later, or a
recovered lease); ``running`` -> ``failed`` (business error, attempts exhausted): the
exception queue; ``failed`` -> ``pending`` (a person retries) or ``done`` (resolved with
a note); ``pending``/``failed`` -> ``cancelled`` (a person cancels).

The worker applies claim/succeed/retry/fail in bulk SQL guarded by ``WHERE state = <from>``;
the guard states come from :data:`TRANSITIONS`, so the SQL and the ORM agree.
"""

PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"
CANCELLED = "cancelled"

STATES = [
    (PENDING, "Pending"),
    (RUNNING, "Running"),
    (DONE, "Done"),
    (FAILED, "Failed"),
    (CANCELLED, "Cancelled"),
]

# transition name -> (states it may start from, state it leads to). A job recovered from a
# dead worker with no attempt left takes "fail" (worker_lost) instead of "recover".
TRANSITIONS = {
    "claim": ((PENDING,), RUNNING),
    "succeed": ((RUNNING,), DONE),
    "retry_later": ((RUNNING,), PENDING),
    "recover": ((RUNNING,), PENDING),
    "fail": ((RUNNING,), FAILED),
    "requeue": ((FAILED, CANCELLED), PENDING),
    "resolve": ((FAILED,), DONE),
    "cancel": ((PENDING, FAILED), CANCELLED),
}


class InvalidTransition(ValueError):
    """A transition was asked from a state that does not allow it."""


def target(transition, current):
    """Return the state ``transition`` leads to from ``current`` or raise InvalidTransition."""
    try:
        sources, result = TRANSITIONS[transition]
    except KeyError:
        raise InvalidTransition("unknown transition %r" % transition) from None
    if current not in sources:
        raise InvalidTransition(
            "cannot %s a job that is %s (allowed from: %s)" % (transition, current, ", ".join(sources))
        )
    return result


def sources(transition):
    """States a transition may start from (used as SQL guards)."""
    return TRANSITIONS[transition][0]
