import uuid

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.finance_sync_core.guard import guarded

from ..engine.matcher import DEFAULT_BLOCK, DEFAULT_REVIEW
from ..provider_adapter import ScreeningProviderAdapter, query

PROVIDER_WEBHOOK_EVENTS = {"screening_list.updated": "screening.provider_list_update"}


class FinanceBackend(models.Model):
    _inherit = "finance.backend"

    # "screening": the backend this addon ships in every database (data/backend_data.xml) to run the
    # local engine's jobs (list loads, rescreens, case reviews); it talks to no platform of its own
    kind = fields.Selection(selection_add=[("screening_provider", "Screening provider"),
                                           ("screening", "Sanctions screening (local engine)")],
                            ondelete={"screening_provider": "set default", "screening": "set default"})
    screening_default = fields.Boolean(
        string="Runs screening jobs", readonly=True, copy=False,
        help="This company's backend for screening jobs (list loads, rescreens, case reviews)")
    screening_review_threshold = fields.Float(
        string="Review from", default=DEFAULT_REVIEW, digits=(3, 2),
        help="Provider scores below are ignored; from here a provider hit opens a potential match")
    screening_block_threshold = fields.Float(
        string="Strong match from", default=DEFAULT_BLOCK, digits=(3, 2),
        help="Provider scores from here open strong matches (blocking, two people to clear)")
    screening_batch_size = fields.Integer(
        string="Partners per job", default=50,
        help="Partners screened by one job of a full rescreen (requests carry at most 100 queries)")
    screening_list_versions = fields.Json(
        string="Provider list versions", readonly=True, copy=False,
        help="The list versions the provider reported with its last answer")
    screening_list_versions_text = fields.Text(compute="_compute_screening_list_versions_text",
                                               string="List versions")

    @api.model
    def _audit_exempt_fields(self):
        return super()._audit_exempt_fields() | {"screening_list_versions"}

    @api.constrains("screening_review_threshold", "screening_block_threshold", "screening_batch_size")
    def _check_screening_provider_settings(self):
        for rec in self.filtered(lambda b: b.kind == "screening_provider"):
            if not 0 < rec.screening_review_threshold <= rec.screening_block_threshold <= 1:
                raise ValidationError(self.env._("Thresholds: 0 < review <= strong match <= 1."))
            if not 1 <= rec.screening_batch_size <= 1000:
                raise ValidationError(self.env._("Partners per job must be between 1 and 1000."))

    @api.depends("screening_list_versions")
    def _compute_screening_list_versions_text(self):
        for rec in self:
            versions = rec.screening_list_versions or {}
            rec.screening_list_versions_text = "\n".join("%s: %s" % kv for kv in sorted(versions.items())) or False

    # ------------------------------------------------------------------ local screening jobs
    @api.model
    def _screening_backend_for(self, company):
        """The company's screening backend (so its cases and jobs follow the company's record
        rules): the shipped one for its company, a copy of it for every other company."""
        default = self.env.ref("compliance_screening.backend_screening").sudo()
        if default.company_id == company:
            return default
        backend = self.sudo().search([("company_id", "=", company.id), ("screening_default", "=", True)], limit=1)
        if not backend:
            backend = default.copy({"company_id": company.id, "name": "%s (%s)" % (default.name, company.name),
                                    "screening_default": True})
            backend.action_activate()
        return backend

    # ------------------------------------------------------------------ screening provider
    def _screening_adapter(self):
        self.ensure_one()
        return ScreeningProviderAdapter(self._http_client(),
                                        correlation_id=self.env.context.get("finance_sync_correlation_id"))

    def _screening_provider_list(self):
        """The list that holds this provider's hits (one per provider backend, made on first use).

        Its entries are reference records of what the provider reported; they are stored
        inactive so that the local engine, which screens against active entries only, never
        matches partners against them."""
        self.ensure_one()
        List = self.env["screening.list"].sudo().with_context(active_test=False)
        lst = List.search([("provider_backend_id", "=", self.id)], limit=1)
        if not lst:
            lst = List.create({"name": self.env._("Screening provider: %s", self.name), "code": "PROVIDER-%s" % self.id,
                               "kind": "provider", "source": "provider", "provider_backend_id": self.id,
                               "sequence": 100})
        return lst

    def _test_connection(self):
        if self.kind == "screening":
            return self.env._("Nothing to connect to: this backend runs the local screening engine's jobs. "
                              "Lists loaded from a URL are downloaded from the URL written on the list.")
        if self.kind != "screening_provider":
            return super()._test_connection()
        matches, bad, versions = self._screening_adapter().screen(
            [query("connection-test", "Connection Test", "organization")], key_prefix="test")
        if bad:
            return self.env._("The provider answered, but not per the contract: %s", "; ".join(bad.values()))
        return self.env._("The provider screened a test name (%(lists)s list(s) reported).", lists=len(versions))

    def _webhook_event_job_types(self):
        events = super()._webhook_event_job_types()
        if self.kind == "screening_provider":
            events.update(PROVIDER_WEBHOOK_EVENTS)
        return events

    @guarded("finance_sync_core.group_finance_sync_manager")
    def action_screening_provider_rescreen(self):
        """Screen every partner of the companies using this provider again."""
        jobs = self.env["screening.provider"]._enqueue_full(self, key_prefix="manual:%s" % uuid.uuid4().hex)
        return self._notification(self.env._("%s screening job(s) queued.", len(jobs)), "success")
