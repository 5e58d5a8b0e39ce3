"""Browser tour (headless Chromium): an approver approves and releases a payment batch."""
from odoo.tests import new_test_user, tagged

from odoo.addons.finance_sync_core.tests.common import TourCase

from .common import GROUPS, TreasuryCase


@tagged("post_install", "-at_install")
class TestBatchReleaseTour(TreasuryCase, TourCase):

    def test_approver_approves_and_releases_a_batch(self):
        vendor = self.vendor("Tour Vendor GmbH", "DE89370400440532013000")
        _bill, payment = self.pay_bill(vendor, 1250.0)
        batch = self.make_batch(payment)
        batch.action_submit()
        approver = new_test_user(self.env, login="tour_approver", name="Tour Approver", groups=GROUPS,
                                 company_id=self.company.id, company_ids=[(6, 0, self.company.ids)])
        self.start_tour("/odoo", "treasury_approve_and_release_batch", login="tour_approver")

        batch = batch.sudo()
        batch.invalidate_recordset()
        self.assertEqual(batch.state, "sent")
        self.assertEqual(batch.approval_ids.user_id, approver)
        self.assertTrue(batch.msg_id and batch.attachment_id, "the pain.001 file was built and kept")
        transmit = self.Job.search([("backend_id", "=", self.backend.id), ("idempotency_key", "=",
                                                                             "transmit:%s" % batch.msg_id)])
        self.assertEqual(transmit.state, "pending", "the transmission waits for a worker, as queued work")
        self.assertTrue(payment.treasury_end_to_end_id)
