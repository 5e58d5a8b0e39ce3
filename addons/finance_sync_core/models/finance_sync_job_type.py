from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, ValidationError

from ..engine.retry import RetryPolicy


class FinanceSyncJobType(models.Model):
    """What a job does and how it retries: one record per kind of work (data, not code)."""

    _name = "finance.sync.job.type"
    _description = "Finance Sync Job Type"
    _order = "code"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Stable technical code used by connectors, e.g. expense.report")
    handler_model = fields.Char(required=True, help="Model holding the handler method")
    handler_method = fields.Char(
        required=True, help="Method called with the job record; it returns the document produced (or nothing)"
    )
    max_attempts = fields.Integer(default=5, required=True)
    retry_base = fields.Float(
        string="First retry after (s)", default=10.0, required=True
    )
    retry_factor = fields.Float(string="Backoff factor", default=2.0, required=True)
    retry_max = fields.Float(string="Longest wait (s)", default=3600.0, required=True)
    retry_jitter = fields.Float(string="Jitter (fraction)", default=0.25, required=True)
    lease_seconds = fields.Integer(
        default=300, required=True,
        help="A running job whose worker has not finished within this time is given back to the queue",
    )
    default_priority = fields.Integer(default=10, required=True, help="Lower runs first")
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_unique", "UNIQUE(code)", "A job type with this code already exists."),
    ]

    @api.constrains("max_attempts", "retry_base", "retry_factor", "retry_max", "retry_jitter", "lease_seconds")
    def _check_policy(self):
        for rec in self:
            if rec.max_attempts < 1:
                raise ValidationError(self.env._("A job type needs at least one attempt."))
            if rec.retry_base < 0 or rec.retry_factor < 1 or rec.retry_max < rec.retry_base:
                raise ValidationError(self.env._("Retry delays must grow: base >= 0, factor >= 1, longest >= base."))
            if not 0 <= rec.retry_jitter < 1:
                raise ValidationError(self.env._("Jitter is a fraction between 0 and 1."))
            if rec.lease_seconds < 5:
                raise ValidationError(self.env._("A lease shorter than 5 seconds would recover live jobs."))

    def _retry_policy(self):
        self.ensure_one()
        return RetryPolicy(
            max_attempts=self.max_attempts, base=self.retry_base, factor=self.retry_factor,
            maximum=self.retry_max, jitter=self.retry_jitter,
        )

    @api.model
    @tools.ormcache("code")
    def _id_for_code(self, code):
        rec = self.sudo().with_context(active_test=False).search([("code", "=", code)], limit=1)
        if not rec:
            raise ValueError("Unknown finance sync job type %r (is its connector installed?)" % code)
        return rec.id

    @api.model
    @tools.ormcache("type_id")
    def _handler_for(self, type_id):
        rec = self.sudo().browse(type_id)
        return rec.handler_model, rec.handler_method, rec._retry_policy()

    def _check_handler_change(self, keys):
        """The worker calls the handler as superuser: choosing it is choosing code to run with
        every right. Only data files (superuser) and settings administrators may set it."""
        if {"handler_model", "handler_method"} & set(keys) and not (
                self.env.su or self.env.user.has_group("base.group_system")):
            raise AccessError(self.env._("Only settings administrators may change which method a job type runs."))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_handler_change(vals)
        self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        self._check_handler_change(vals)
        self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()
