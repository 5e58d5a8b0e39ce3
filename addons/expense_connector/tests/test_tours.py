"""Browser tour (headless Chromium): the accountant fixes an unmapped expense category from the
exception queue, and every report waiting for it posts once."""
from odoo.tests import new_test_user, tagged

from odoo.addons.finance_sync_core.tests.common import TourCase

from .common import ExpenseConnectorCase


@tagged("post_install", "-at_install")
class TestUnmappedCategoryTour(ExpenseConnectorCase, TourCase):

    def test_accountant_fixes_a_category_and_the_reports_post(self):
        self.env["product.product"].create({"name": "Ski Pass", "can_be_expensed": True, "standard_price": 0.0,
                                            "property_account_expense_id": self.expense_account.id})
        skiing = [self.create_report(employee_id=emp, lines=[{"amount": amount, "category_code": "SKI_PASS"}])
                  for emp, amount in (("emp_3", "58.00"), ("emp_4", "61.50"))]
        self.company.fiscalyear_lock_date = self.today  # a third report hits a locked period
        locked = self.create_report(employee_id="emp_5", lines=[{"amount": "9.90", "category_code": "MEALS"}])
        self.sync()
        self.company.fiscalyear_lock_date = False
        for report in skiing:
            self.assertEqual(self.report_job(report).error_code, "unmapped_expense_category")
        self.assertEqual(self.report_job(locked).error_code, "period_locked")
        accountant = new_test_user(self.env, login="tour_accountant", company_id=self.company.id,
                                   company_ids=[(6, 0, self.company.ids)],
                                   groups="account.group_account_user,finance_sync_core.group_finance_sync_user")
        self.assertTrue(accountant)

        self.start_tour("/odoo", "expense_fix_unmapped_category", login="tour_accountant")

        self.env.invalidate_all()
        self.assertEqual([self.report_job(r).state for r in skiing], ["pending", "pending"])
        self.run_worker()
        for report in skiing:
            sheet = self.sheets_of(report["id"])
            self.assertEqual((len(sheet), sheet.state), (1, "post"), "posted once after the fix")
            self.assertEqual(sheet.expense_line_ids.product_id.name, "Ski Pass")
        self.assertEqual(self.report_job(locked).state, "failed", "the other cause was left alone")
