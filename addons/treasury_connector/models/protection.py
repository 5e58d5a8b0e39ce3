"""Fields only the connector's own code writes (queue_job's ``_protected_fields`` idea).

The guard is an object in the context, not a flag: RPC callers can put any JSON value in their
context, but never this object, so they cannot write these fields around the state machine.
"""
from odoo.exceptions import AccessError

_SENTINEL = object()
KEY = "treasury_connector_internal"


def internal(records):
    """``records`` allowed to write their protected fields."""
    return records.with_context(**{KEY: _SENTINEL})


def check(records, vals, protected):
    touched = protected.intersection(vals)
    if touched and records.env.context.get(KEY) is not _SENTINEL:
        raise AccessError(records.env._("These fields are set by the payment workflow only: %s",
                                        ", ".join(sorted(touched))))
