"""Shared helpers for the compliance screening tests."""
import os

# The real list files (shared/data/sanctions), read where they are; never copied into the repo.
from odoo.addons.finance_sync_core.tests.common import shared_data_dir

SANCTIONS_DIR = os.environ.get("SCREENING_SANCTIONS_DIR") or shared_data_dir("sanctions")
HERE = os.path.join(os.path.dirname(__file__), "data")


def sanctions_file(relative):
    """Path of a real list file; a missing file fails the test (it must never pass silently)."""
    path = os.path.join(SANCTIONS_DIR, relative)
    if not os.path.isfile(path):
        raise AssertionError(
            "Sanctions list file %s is missing: the golden tests read the real lists from %s "
            "(shared/data/sanctions next to the repository, or set SCREENING_SANCTIONS_DIR)." % (relative, SANCTIONS_DIR))
    return path


def ofac_files(folder="ofac"):
    prefix = "cons_" if folder.endswith("non-sdn") else ""
    files = {"sdn": sanctions_file("%s/%s%s.csv" % (folder, prefix, "prim" if prefix else "sdn")),
             "alt": sanctions_file("%s/%salt.csv" % (folder, prefix)),
             "add": sanctions_file("%s/%sadd.csv" % (folder, prefix))}
    return files


# --------------------------------------------------------------------------- ORM base
import base64  # noqa: E402

from odoo.tests import new_test_user  # noqa: E402

from odoo.addons.account.tests.common import AccountTestInvoicingCommon  # noqa: E402
from odoo.addons.finance_sync_core.worker import QueueWorker  # noqa: E402

CUSTOM_V1 = """name,aliases,type,country,date_of_birth,reference
BANCO NACIONAL DE CUBA,National Bank of Cuba,organization,CU,,T-306
"PETROV, Ivan Sergeevich",Ivan Petroff;Иван Петров,person,RU,1970-03-01,T-100
Nordwind Handels GmbH,,organization,DE,,T-200
"""


class ScreeningCase(AccountTestInvoicingCommon):
    """A company with a chart of accounts, a custom list loaded, officers, and queue helpers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.env["ir.config_parameter"].sudo().set_param("compliance_screening.potential_policy", "block")
        cls.officer_a = new_test_user(cls.env, login="officer_a", groups="compliance_screening.group_screening_officer,account.group_account_invoice")
        cls.officer_b = new_test_user(cls.env, login="officer_b", groups="compliance_screening.group_screening_officer,account.group_account_invoice")
        cls.custom = cls.env["screening.list"].create({"name": "Test list", "code": "TEST", "kind": "custom_csv"})
        cls.upload(cls.custom, CUSTOM_V1)

    @classmethod
    def upload(cls, lst, content, **extra):
        data = content.encode() if isinstance(content, str) else content
        wizard = cls.env["screening.list.upload"].create(dict(
            {"list_id": lst.id, "file": base64.b64encode(data), "filename": "list"}, **extra))
        action = wizard.action_load()
        return cls.env["screening.list.version"].browse(action["res_id"])

    def run_worker(self):
        done = QueueWorker(self.env, batch_size=50, commit=False).run(max_seconds=600)  # an upper bound: returns once drained
        self.env.invalidate_all()  # the worker wrote through its own environment
        return done

    def set_thresholds(self, review, block):
        """Fix the score bands, so that a flow test does not hang on the engine's exact scores."""
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("compliance_screening.review_threshold", str(review))
        params.set_param("compliance_screening.block_threshold", str(block))

    def org(self, name, **vals):
        return self.env["res.partner"].create(dict({"name": name, "is_company": True}, **vals))

    def person(self, name, **vals):
        return self.env["res.partner"].create(dict({"name": name, "is_company": False}, **vals))
