"""Public model methods are RPC API: this marks the ones that are meant to be called.

Anything on a model without a leading underscore can be called over JSON-RPC/XML-RPC by any
user who can read the model, with any arguments. Suite models therefore keep helpers private
(``_name``) and decorate each public entry point (buttons, wizards' actions, API for scripts)
with :func:`guarded`, naming the groups allowed to call it. The check runs on the server for
every caller except superuser environments (crons, ``sudo()`` at a commented call site).
``tests/test_public_methods.py`` fails on any public method of a suite model that is neither
guarded nor a standard ORM method.
"""
import functools

from odoo.exceptions import AccessError


def guarded(*groups):
    """Decorator: only members of one of ``groups`` (XML ids) may call the method."""
    if not groups:
        raise ValueError("guarded() needs at least one group")

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            if not self.env.su and not any(self.env.user.has_group(group) for group in groups):
                raise AccessError(self.env._("You are not allowed to do this (%(action)s needs one of the groups %(groups)s).",
                                    action=method.__name__, groups=", ".join(groups)))
            return method(self, *args, **kwargs)

        wrapper._finance_guard = groups
        return wrapper

    return decorate
