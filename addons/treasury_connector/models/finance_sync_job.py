from odoo import models


class FinanceSyncJob(models.Model):
    _inherit = "finance.sync.job"

    def _post_failure(self):
        """A transmission that gives up with its outcome unknown marks its batch (see
        ``treasury.connector._transmission_error``): written with the failure record, so it holds
        whatever the job's own transaction did."""
        res = super()._post_failure()
        self.env["treasury.connector"]._mark_in_doubt(self)
        return res
