"""Every public method of the suite's models is RPC API: it must be guarded (finance_sync_core.guard).

Anything on a model without a leading underscore can be called over JSON-RPC by any user who can
read the model. This test walks the registry, finds every public method DEFINED in a file under
this repository's addons/ (standard ORM attributes and mail/mixin methods inherited unchanged
are not ours, nor are overrides of Odoo's own public methods such as ``account.payment.
action_post``, which keep Odoo's access rules), and fails listing each one that lacks the
``_finance_guard`` mark set by ``guarded(...)``. One test per addon folder, so each addon's list
is its own.
"""
import inspect
import os

from odoo import models
from odoo.tests import TransactionCase, tagged

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDONS_DIR = os.path.join(ROOT, "addons")
ADDONS = sorted(name for name in os.listdir(ADDONS_DIR)
                if os.path.isfile(os.path.join(ADDONS_DIR, name, "__manifest__.py")))
# ORM overrides that are public by Odoo's design and checked by ACLs/record rules instead
ORM_OVERRIDES = {"create", "write", "unlink", "read", "search", "search_read", "default_get", "name_search",
                 "copy", "copy_data", "fields_get", "name_create", "read_group", "web_read", "web_search_read",
                 "message_post", "init", "onchange"}
STANDARD = set()
for _base in (models.BaseModel, models.Model, models.AbstractModel, models.TransientModel):
    STANDARD.update(dir(_base))


def _function(value):
    if isinstance(value, (classmethod, staticmethod)):
        value = value.__func__
    return value if callable(value) and not isinstance(value, type) else None


def _is_compute_or_onchange(func):
    inner = inspect.unwrap(func)
    return any(hasattr(obj, attr) for obj in (func, inner)
               for attr in ("_onchange", "_depends", "_constrains"))


def _is_suite_class(cls):
    parts = cls.__module__.split(".")
    return len(parts) > 2 and parts[:2] == ["odoo", "addons"] and parts[2] in ADDONS


def public_methods(registry):
    """{addon folder: {"model.method (file:line)": guarded?}} of every public method defined under addons/."""
    found = {}
    seen = set()
    for model_name in sorted(registry):
        mro = registry[model_name].__mro__
        # overrides of Odoo's own public methods (account.payment.action_post...) keep Odoo's
        # access rules: guarding them would change who may post a payment in plain Odoo
        odoo_names = {name for cls in mro if not _is_suite_class(cls) for name in vars(cls)}
        for cls in mro:
            if not _is_suite_class(cls):
                continue
            for name, value in vars(cls).items():
                if name.startswith("_") or name in STANDARD or name in ORM_OVERRIDES or name in odoo_names:
                    continue
                func = _function(value)
                if func is None or not (inspect.isfunction(inspect.unwrap(func)) or inspect.isfunction(func)):
                    continue
                try:
                    source = os.path.realpath(inspect.getsourcefile(inspect.unwrap(func)) or "")
                except TypeError:
                    continue
                if not source.startswith(os.path.realpath(ADDONS_DIR) + os.sep):
                    continue
                key = (source, cls.__qualname__, name)
                if key in seen:
                    continue
                seen.add(key)
                if _is_compute_or_onchange(func):
                    continue
                addon = os.path.relpath(source, os.path.realpath(ADDONS_DIR)).split(os.sep)[0]
                label = "%s.%s (%s:%s)" % (getattr(cls, "_name", None) or model_name, name,
                                            os.path.relpath(source, ROOT), inspect.unwrap(func).__code__.co_firstlineno)
                found.setdefault(addon, {})[label] = bool(getattr(func, "_finance_guard", None))
    return found


@tagged("post_install", "-at_install")
class TestPublicMethodsAreGuarded(TransactionCase):

    def check_addon(self, addon):
        if not self.env["ir.module.module"].search([("name", "=", addon), ("state", "=", "installed")]):
            self.skipTest("%s is not installed in this database" % addon)
        unguarded = sorted(label for label, guarded in public_methods(self.env.registry).get(addon, {}).items()
                           if not guarded)
        self.assertFalse(unguarded, "Public methods of %s are callable over RPC by anyone who can read the model; "
                         "make them private (_name) or decorate them with guard.guarded(...):\n  %s"
                         % (addon, "\n  ".join(unguarded)))

    def test_the_walk_finds_guarded_methods(self):
        """The enumeration itself works: a known guarded method is found and a known private one is not."""
        backend = self.env.registry["finance.backend"]
        self.assertTrue(getattr(backend.action_regenerate_webhook_token, "_finance_guard", None))
        core = public_methods(self.env.registry)["finance_sync_core"]
        token = [label for label in core if label.startswith("finance.backend.action_regenerate_webhook_token ")]
        self.assertEqual(len(token), 1, "the walk must list the backend's token rotation")
        self.assertTrue(core[token[0]])
        self.assertTrue(any(label.startswith("finance.sync.job.action_retry ") for label in core))
        self.assertFalse(any("._enqueue" in label or ".create " in label for label in core),
                         "private methods and ORM overrides are not listed")


def _make(addon):
    def test(self):
        self.check_addon(addon)
    test.__name__ = "test_public_methods_guarded_%s" % addon
    test.__doc__ = "Every public method defined in addons/%s is guarded or private." % addon
    return test


for _addon in ADDONS:
    setattr(TestPublicMethodsAreGuarded, "test_public_methods_guarded_%s" % _addon, _make(_addon))
