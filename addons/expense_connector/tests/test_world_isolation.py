"""The expense world (used by the demo on a real database) touches only its own company's rates."""
from odoo.tests import tagged

from odoo.addons.finance_sync_sandbox.worlds import build_expense_world

from .common import ExpenseConnectorCase


@tagged("post_install", "-at_install")
class TestWorldIsolation(ExpenseConnectorCase):
    def test_building_a_world_leaves_other_companies_rates_alone(self):
        """Setting up a second company's expense world must not delete the first company's rates
        (the demo addon builds one on a database that may hold a real company's books)."""
        gbp = self.env.ref("base.GBP")
        kept = self.env["res.currency.rate"].create({"name": "2020-06-30", "currency_id": gbp.id,
                                                     "company_id": self.company.id, "rate": 0.91})
        other = self.setup_other_company(name="World Two")
        world = build_expense_world(
            self.env, other["company"], [], other["default_journal_purchase"], other["default_journal_bank"],
            other["default_account_expense"], rated_currencies=("JPY",),
            backend_vals={"name": "Expense sandbox two", "base_url": self.sandbox.url("expense")})
        self.assertTrue(kept.exists(), "another company's GBP rate was deleted")
        self.assertEqual(gbp.with_company(self.company)._get_rates(self.company, "2021-01-01")[gbp.id], 0.91)
        # the new company got its own JPY rate and no GBP rate of its own
        Rate = self.env["res.currency.rate"]
        jpy = self.env.ref("base.JPY")
        self.assertTrue(Rate.search([("company_id", "=", world["company"].id), ("currency_id", "=", jpy.id)]))
        self.assertFalse(Rate.search([("company_id", "=", world["company"].id), ("currency_id", "=", gbp.id)]))
