from odoo import fields, models, tools


class FinanceSyncDashboard(models.Model):
    """Counts of jobs by backend, state, error code and age (a SQL view for pivot/graph)."""

    _name = "finance.sync.dashboard"
    _description = "Finance Sync Dashboard"
    _auto = False
    _order = "job_count desc"

    backend_id = fields.Many2one("finance.backend", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    job_type_id = fields.Many2one("finance.sync.job.type", readonly=True)
    state = fields.Selection(related=None, selection=lambda self: self.env["finance.sync.job"]._fields["state"].selection,
                             readonly=True)
    error_code = fields.Char(readonly=True)
    aging = fields.Selection([("0-4 h", "0-4 h"), ("4-24 h", "4-24 h"), ("1-3 days", "1-3 days"),
                              ("older", "Older than 3 days")], readonly=True)
    job_count = fields.Integer(readonly=True, aggregator="sum")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        aging = self.env["finance.sync.job"]._aging_bucket_sql()
        self.env.cr.execute(f"""
            CREATE VIEW {self._table} AS (
                SELECT row_number() OVER () AS id, j.backend_id, j.company_id, j.job_type_id, j.state,
                       j.error_code, CASE WHEN j.state = 'failed' THEN {aging} END AS aging, count(*) AS job_count
                  FROM finance_sync_job j
              GROUP BY j.backend_id, j.company_id, j.job_type_id, j.state, j.error_code, 7
            )
        """)
