"""Trace: everything one correlation id touched, from a search box."""
from odoo import api, fields, models
from odoo.exceptions import UserError

from ..guard import guarded

USER = "finance_sync_core.group_finance_sync_user"


class FinanceTrace(models.TransientModel):
    _name = "finance.trace"
    _description = "Trace a correlation id"
    _rec_name = "correlation_id"  # the form's title and breadcrumb name the id traced, not "finance.trace,1"

    correlation_id = fields.Char(string="Correlation ID", required=True,
                                 help="The id shown on a job, an audit entry or a document (Correlation ID field).")
    line_ids = fields.One2many("finance.trace.line", "trace_id", readonly=True)
    line_count = fields.Integer(compute="_compute_line_count")

    @api.depends("line_ids")
    def _compute_line_count(self):
        for trace in self:
            trace.line_count = len(trace.line_ids)

    @api.model
    def _correlated_models(self):
        return sorted(name for name, model in self.env.registry.items()
                      if not model._abstract and "finance_correlation_id" in model._fields
                      and not model._transient)

    def _collect(self, correlation_id):
        """[(record, how)] for the id: jobs, documents carrying it, what those documents are
        reconciled or grouped with, audit entries. Only what the user may read is listed."""
        found, seen = [], set()

        def add(record, how):
            key = (record._name, record.id)
            if key not in seen:
                seen.add(key)
                found.append((record, how))

        for job in self.env["finance.sync.job"].search([("correlation_id", "=", correlation_id)], order="id"):
            add(job, self.env._("sync job"))
        carriers = []
        for model in self._correlated_models():
            Model = self.env[model]
            if not Model.has_access("read"):
                continue
            for record in Model.search([("finance_correlation_id", "=", correlation_id)], order="id"):
                add(record, self.env._("carries the id"))
                carriers.append(record)
        for record in carriers:
            for related in record._finance_trace_related():
                if related.has_access("read"):
                    add(related, self.env._("linked to %s", record.display_name))
        for entry in self.env["finance.audit.log"].search([("correlation_id", "=", correlation_id)], order="id"):
            add(entry, self.env._("audit log"))
        return found

    @guarded(USER)
    def action_trace(self):
        self.ensure_one()
        correlation_id = (self.correlation_id or "").strip()
        if not correlation_id:
            raise UserError(self.env._("Enter a correlation id."))
        self.line_ids.unlink()
        models_ = self.env["ir.model"]
        self.write({"correlation_id": correlation_id, "line_ids": [(0, 0, {
            "model_name": models_._get(record._name).name, "res_model": record._name, "res_id": record.id,
            "name": record.display_name, "how": how,
        }) for record, how in self._collect(correlation_id)]})
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
                "target": "current", "name": self.env._("Trace %s", correlation_id)}


class FinanceTraceLine(models.TransientModel):
    _name = "finance.trace.line"
    _description = "One record found by a trace"
    _order = "id"

    trace_id = fields.Many2one("finance.trace", required=True, ondelete="cascade")
    model_name = fields.Char(string="Type")
    res_model = fields.Char()
    res_id = fields.Integer()
    name = fields.Char(string="Record")
    how = fields.Char(string="Found as")

    @guarded(USER)
    def action_open(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": self.res_model, "res_id": self.res_id,
                "view_mode": "form", "target": "current"}
