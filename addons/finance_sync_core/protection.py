"""Fields only the suite's own code writes (queue_job's ``_protected_fields`` idea).

The guard is an object in the context, not a flag: RPC callers can put any JSON value in their
context, but never this object, so they cannot write protected fields around a state machine.
"""
from odoo.exceptions import AccessError

_SENTINEL = object()
KEY = "finance_sync_internal"


def internal(records):
    """``records`` allowed to write their protected fields (and to be created by the pipeline)."""
    return records.with_context(**{KEY: _SENTINEL})


def is_internal(records):
    return records.env.context.get(KEY) is _SENTINEL


def check(records, vals, protected, message=None):
    """Raise AccessError if ``vals`` touches ``protected`` fields outside internal code."""
    touched = set(protected).intersection(vals)
    if touched and not is_internal(records):
        raise AccessError(message or records.env._("These fields are set by the workflow only: %s",
                                                   ", ".join(sorted(touched))))
