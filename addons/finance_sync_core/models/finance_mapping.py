from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..guard import guarded

# kind -> Odoo model; connectors extend the selection (selection_add) and this map
CORE_KIND_MODELS = {
    "company": "res.company",
    "currency": "res.currency",
    "journal": "account.journal",
    "account": "account.account",
    "tax": "account.tax",
    "analytic": "account.analytic.account",
    "product": "product.product",
    "partner": "res.partner",
}


class FinanceMapping(models.Model):
    """External code -> Odoo record, per backend and kind. Lines without a value are the
    'unmapped' list, fed by the exception queue."""

    _name = "finance.mapping"
    _description = "Finance Sync Value Mapping"
    _order = "backend_id, kind, external_code"
    _rec_name = "external_code"
    _check_company_auto = True

    # no check_company: the line's company is the backend's (related below), so the check could
    # only compare the backend with itself, and on a new line (no company yet) its domain offered
    # no backend at all; the record rules keep the choice to the user's companies
    backend_id = fields.Many2one("finance.backend", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="backend_id.company_id", store=True, index=True)
    kind = fields.Selection([
        ("company", "Company"), ("currency", "Currency"), ("journal", "Journal / bank account"),
        ("account", "Account"), ("tax", "Tax"), ("analytic", "Cost center / project"),
        ("product", "Product / category"), ("partner", "Partner"),
    ], required=True, index=True)
    external_code = fields.Char(required=True, index=True)
    external_name = fields.Char(help="What the platform calls it, for people")
    value_ref = fields.Reference(selection="_selection_value_models", string="Odoo value")
    value_name = fields.Char(
        string="Odoo value (name)", compute="_compute_value_name", inverse="_inverse_value_name", store=False,
        help="Name of the Odoo record; CSV imports can fill this column instead of the reference",
    )
    is_default = fields.Boolean(string="Default", help="Used for codes of this kind that have no line of their own")
    state = fields.Selection([("mapped", "Mapped"), ("unmapped", "Unmapped")], compute="_compute_state", store=True, index=True)
    seen_count = fields.Integer(readonly=True, help="Failed jobs that asked for this code")
    last_seen = fields.Datetime(readonly=True)
    waiting_job_count = fields.Integer(compute="_compute_waiting")
    note = fields.Text()

    _sql_constraints = [
        ("code_unique", "UNIQUE(backend_id, kind, external_code)", "This code is already mapped for this backend and kind."),
    ]

    @api.model
    def _kind_models(self):
        return dict(CORE_KIND_MODELS)

    @api.model
    def _selection_value_models(self):
        names = dict((m.model, m.name) for m in self.env["ir.model"].sudo().search(
            [("model", "in", list(self._kind_models().values()))]))
        return sorted(names.items(), key=lambda kv: kv[1])

    @api.depends("value_ref")
    def _compute_state(self):
        for rec in self:
            rec.state = "mapped" if rec.value_ref else "unmapped"

    @api.depends("value_ref")
    def _compute_value_name(self):
        for rec in self:
            rec.value_name = rec.value_ref.display_name if rec.value_ref else False

    def _inverse_value_name(self):
        for rec in self:
            if not rec.value_name:
                continue
            model = self._kind_models().get(rec.kind)
            matches = []
            # active records first; an archived one is found too, so the constraint below can say
            # it is archived instead of "no match"
            for Target in (self.env[model], self.env[model].with_context(active_test=False)):
                matches = Target.name_search(rec.value_name, operator="=ilike", limit=2)
                if not matches:
                    matches = Target.name_search(rec.value_name, operator="ilike", limit=2)
                if matches:
                    break
            if len(matches) != 1:
                raise UserError(self.env._("%(kind)s %(name)r: %(n)s records match, give an exact name.",
                                  kind=rec.kind, name=rec.value_name, n=len(matches) or self.env._("no")))
            rec.value_ref = "%s,%s" % (model, matches[0][0])

    @api.constrains("kind", "value_ref")
    def _check_value_model(self):
        kinds = self._kind_models()
        for rec in self:
            if rec.value_ref and rec.value_ref._name != kinds.get(rec.kind):
                raise ValidationError(self.env._("A %(kind)s mapping must point to a %(model)s record.",
                                        kind=rec.kind, model=kinds.get(rec.kind)))

    @api.constrains("value_ref")
    def _check_value_active(self):
        """An archived record (a currency, tax, account, journal... no longer in use) is never a mapping's value."""
        for rec in self:
            value = rec.value_ref
            if not value:
                continue
            value = value.sudo().with_context(active_test=False).exists()
            if not value:
                raise ValidationError(self.env._("The %(kind)s chosen for %(code)s no longer exists.",
                                        kind=rec.kind, code=rec.external_code))
            if value._active_name and not value[value._active_name]:
                raise ValidationError(self.env._(
                    "%(value)s is archived: a mapping cannot point to it (code %(code)s). Unarchive it, "
                    "or choose an active %(kind)s.", value=value.display_name, code=rec.external_code, kind=rec.kind))
            if value._name == "account.account" and value.deprecated:
                raise ValidationError(self.env._("Account %(value)s is deprecated: a mapping cannot point to it (code %(code)s).",
                                        value=value.display_name, code=rec.external_code))

    # ------------------------------------------------------------------ CSV import
    def load(self, fields, data):
        """Standard import, with the backend column resolved strictly: a backend name that matches
        no backend, or more than one, refuses the import with a message naming the row and the
        value (Odoo's importer would take the first of several matches, or offer to create one)."""
        messages = self._check_import_backends(fields, data)
        if messages:
            return {"ids": False, "messages": messages}
        context = dict(self.env.context)
        if context.get("name_create_enabled_fields"):
            # backends are configured on their own form, never created from a mapping file
            context["name_create_enabled_fields"] = {
                k: v for k, v in context["name_create_enabled_fields"].items() if k != "backend_id"}
        return super(FinanceMapping, self.with_context(context)).load(fields, data)

    @api.model
    def _check_import_backends(self, fields, data):
        if "backend_id" not in fields:
            return []
        column = fields.index("backend_id")
        Backend = self.env["finance.backend"]
        messages, cache = [], {}
        for row_index, row in enumerate(data):
            name = (row[column] or "").strip() if column < len(row) else ""
            if not name:
                continue
            if name not in cache:
                cache[name] = Backend.search([("name", "=", name)])
            found = cache[name]
            if len(found) == 1:
                continue
            if found:
                message = self.env._(
                    "Backend %(name)r is ambiguous: %(count)s backends have this name (%(which)s). Rename one of "
                    "them, or give the backend's external id (column backend_id/id) or database id "
                    "(column backend_id/.id) instead of its name.",
                    name=name, count=len(found),
                    which=", ".join("id %s, %s" % (b.id, b.company_id.name) for b in found))
            else:
                message = self.env._("Backend %(name)r does not exist (or is not one of your companies'): create it under "
                            "Finance Sync > Backends first, or correct the name. Known backends: %(known)s.",
                            name=name, known=", ".join(Backend.search([]).mapped("name")) or self.env._("none"))
            messages.append({"type": "error", "message": message, "field": "backend_id",
                             "record": row_index, "rows": {"from": row_index, "to": row_index}})
        return messages

    @api.onchange("kind")
    def _onchange_kind(self):
        model = self._kind_models().get(self.kind)
        if self.value_ref and self.value_ref._name != model:
            self.value_ref = False

    def _compute_waiting(self):
        Job = self.env["finance.sync.job"]
        for rec in self:
            rec.waiting_job_count = Job.search_count(rec._waiting_jobs_domain()) if rec.id else 0

    def _waiting_jobs_domain(self):
        self.ensure_one()
        return [("state", "=", "failed"), ("backend_id", "=", self.backend_id.id),
                ("mapping_kind", "=", self.kind), ("external_code", "=", self.external_code)]

    # ------------------------------------------------------------------ changes re-queue and are audited
    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        for rec in records:
            self.env["finance.audit.log"]._append("mapping.create", rec, rec._describe())
        records._requeue_waiting()
        return records

    def write(self, vals):
        res = super().write(vals)
        if {"value_ref", "value_name", "is_default", "external_code", "kind"} & set(vals):
            for rec in self:
                self.env["finance.audit.log"]._append("mapping.write", rec, rec._describe())
            self._requeue_waiting()
        return res

    def unlink(self):
        for rec in self:
            self.env["finance.audit.log"]._append("mapping.unlink", rec, rec._describe())
        return super().unlink()

    def _describe(self):
        return "%s %s %s -> %s" % (self.backend_id.display_name, self.kind, self.external_code,
                                   self.value_ref.display_name if self.value_ref else "(unmapped)")

    def _requeue_waiting(self):
        """Saving a mapping re-queues every failed job waiting on that code (or, for a default, the kind)."""
        Job = self.env["finance.sync.job"]
        jobs = Job
        for rec in self.filtered("value_ref"):
            domain = rec._waiting_jobs_domain()
            if rec.is_default:
                domain = [d for d in domain if d[0] != "external_code"]
            jobs |= Job.sudo().search(domain)
        if jobs:
            jobs._requeue()
            self.env["finance.audit.log"]._append(
                "mapping.requeue", None, "%d job(s) re-queued after a mapping change" % len(jobs), data={"job_ids": jobs.ids})
        return jobs

    @api.model
    def _note_unmapped(self, backend_id, kind, code):
        """Record a code the pipeline could not map (creates the 'unmapped' line once, counts repeats)."""
        if kind not in self._kind_models():
            return
        self.env.cr.execute("""
            INSERT INTO finance_mapping (backend_id, company_id, kind, external_code, state, seen_count, last_seen,
                                         create_uid, create_date, write_uid, write_date)
            SELECT b.id, b.company_id, %s, %s, 'unmapped', 1, now() at time zone 'UTC',
                   %s, now() at time zone 'UTC', %s, now() at time zone 'UTC'
              FROM finance_backend b WHERE b.id = %s
            ON CONFLICT (backend_id, kind, external_code)
            DO UPDATE SET seen_count = finance_mapping.seen_count + 1, last_seen = EXCLUDED.last_seen
        """, (kind, code, self.env.uid, self.env.uid, backend_id))
        self.invalidate_model()

    @guarded("finance_sync_core.group_finance_sync_user")
    def action_view_waiting_jobs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("finance_sync_core.finance_sync_job_action_exceptions")
        action["domain"] = self._waiting_jobs_domain()
        return action
