from odoo import fields, models, tools


class FinanceSyncDashboard(models.Model):
    """Exception analysis: one row per open exception (failed job) with its age bucket, for the
    pivot and graph views behind the dashboard cards. Only exceptions have an age in the queue,
    so the view holds only them: grouping by age never shows an empty ("None") bucket for done
    or pending jobs (those are counted on the cards and in the Jobs list)."""

    _name = "finance.sync.dashboard"
    _description = "Finance Sync Exception Analysis"
    _auto = False
    _order = "date_failed desc, id desc"
    _rec_name = "error_code"

    job_id = fields.Many2one("finance.sync.job", string="Exception", readonly=True)
    backend_id = fields.Many2one("finance.backend", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    job_type_id = fields.Many2one("finance.sync.job.type", readonly=True)
    user_id = fields.Many2one("res.users", string="Assigned to", readonly=True)
    state = fields.Selection(selection=lambda self: self.env["finance.sync.job"]._fields["state"].selection,
                             readonly=True)
    error_code = fields.Char(readonly=True)
    aging = fields.Selection([("0-4 h", "0-4 h"), ("4-24 h", "4-24 h"), ("1-3 days", "1-3 days"),
                              ("older", "Older than 3 days")], string="Age", readonly=True)
    date_failed = fields.Datetime(string="Failed on", readonly=True)
    job_count = fields.Integer(string="Exceptions", readonly=True, aggregator="sum")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        aging = self.env["finance.sync.job"]._aging_bucket_sql()
        # composed from the model's table name and the job model's constant bucket expression
        # pylint: disable=sql-injection
        self.env.cr.execute(f"""
            CREATE VIEW {self._table} AS (
                SELECT j.id, j.id AS job_id, j.backend_id, j.company_id, j.job_type_id, j.user_id, j.state,
                       COALESCE(j.error_code, 'unknown') AS error_code, {aging} AS aging,
                       j.date_failed, 1 AS job_count
                  FROM finance_sync_job j
                 WHERE j.state = 'failed'
            )
        """)
