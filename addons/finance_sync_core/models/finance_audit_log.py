import hashlib
import json

from odoo import _, api, fields, models, sql_db
from odoo.exceptions import AccessError

GENESIS = "0" * 64
LOCK_KEY = 0x46534C47  # pg_advisory_xact_lock key serialising appends ("FSLG")


def entry_hash(prev_hash, entry):
    """sha256 over the previous hash and a canonical JSON of the entry's content."""
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


class FinanceAuditLog(models.Model):
    """Append-only, hash-chained log: each row holds the sha256 of the previous one, so an
    edit or a deletion made behind the ORM's back breaks the chain at that row."""

    _name = "finance.audit.log"
    _description = "Finance Sync Audit Log"
    _order = "id desc"
    _rec_name = "action"
    _log_access = False

    date = fields.Datetime(required=True, readonly=True, index=True)
    user_id = fields.Many2one("res.users", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    action = fields.Char(required=True, readonly=True, index=True)
    res_model = fields.Char(readonly=True, index=True)
    res_id = fields.Integer(readonly=True, index=True)
    description = fields.Text(readonly=True)
    data = fields.Json(readonly=True)
    data_text = fields.Text(compute="_compute_data_text", string="Data")
    correlation_id = fields.Char(readonly=True, index=True)
    prev_hash = fields.Char(readonly=True)
    hash = fields.Char(readonly=True, index=True)

    @api.depends("data")
    def _compute_data_text(self):
        for rec in self:
            rec.data_text = json.dumps(rec.data, indent=2, sort_keys=True, ensure_ascii=False) if rec.data else False

    @api.model_create_multi
    def create(self, vals_list):
        raise AccessError(_("The audit log is written by the suite itself (finance.audit.log._append)."))

    def write(self, vals):
        raise AccessError(_("The audit log is append-only."))

    def unlink(self):
        raise AccessError(_("The audit log is append-only."))

    @staticmethod
    def _content(date, user_id, company_id, action, res_model, res_id, description, data, correlation_id):
        return {"date": str(date), "user_id": user_id, "company_id": company_id, "action": action,
                "res_model": res_model, "res_id": res_id, "description": description, "data": data,
                "correlation_id": correlation_id}

    @api.model
    def _append(self, action, record=None, description="", data=None, correlation_id=None, autonomous=False):
        """Append one entry. ``autonomous`` writes it in its own committed transaction (used for
        digests of messages already sent, which stay true even if the job rolls back)."""
        if autonomous and not self.env.registry.in_test_mode():
            with sql_db.db_connect(self.env.cr.dbname).cursor() as cr2:
                return self.with_env(self.env(cr=cr2))._append(action, record, description, data, correlation_id)
        cr = self.env.cr
        company = record.company_id.id if record is not None and "company_id" in record._fields and record.company_id else self.env.company.id
        correlation_id = correlation_id or self.env.context.get("finance_sync_correlation_id")
        cr.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        cr.execute("SELECT hash FROM finance_audit_log ORDER BY id DESC LIMIT 1")
        row = cr.fetchone()
        prev = row[0] if row else GENESIS
        cr.execute("SELECT date_trunc('microseconds', clock_timestamp() AT TIME ZONE 'UTC')")
        date = cr.fetchone()[0]
        content = self._content(date, self.env.uid, company, action, record._name if record is not None else None,
                                record.id if record is not None else None, description or "", data or None,
                                correlation_id)
        digest = entry_hash(prev, content)
        cr.execute("""
            INSERT INTO finance_audit_log (date, user_id, company_id, action, res_model, res_id, description,
                                           data, correlation_id, prev_hash, hash)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s) RETURNING id
        """, (date, content["user_id"], company, action, content["res_model"], content["res_id"],
              content["description"], json.dumps(content["data"], default=str) if content["data"] is not None else None,
              correlation_id, prev, digest))
        return self.browse(cr.fetchone()[0])

    @api.model
    def _verify_chain(self):
        """Walk the chain in order; return (ok, checked count, first broken id or None, reason)."""
        self.env.flush_all()
        cr = self.env.cr
        cr.execute("""SELECT id, date, user_id, company_id, action, res_model, res_id, description, data,
                             correlation_id, prev_hash, hash FROM finance_audit_log ORDER BY id""")
        prev = GENESIS
        count = 0
        for row in cr.fetchall():
            count += 1
            rid, date, uid, company, action, res_model, res_id, description, data, corr, prev_hash, digest = row
            if prev_hash != prev:
                return False, count, rid, "previous-hash link does not match the entry before it (an entry was removed or reordered)"
            content = self._content(date, uid, company, action, res_model, res_id, description, data, corr)
            if entry_hash(prev, content) != digest:
                return False, count, rid, "content does not match its hash (the entry was altered)"
            prev = digest
        return True, count, None, ""

    @api.model
    def action_verify_chain(self):
        ok, count, broken, reason = self._verify_chain()
        if ok:
            message, kind = _("Audit chain intact: %s entries verified.", count), "success"
        else:
            message, kind = _("Audit chain BROKEN at entry %(id)s: %(reason)s.", id=broken, reason=reason), "danger"
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Verify chain"), "message": message, "type": kind, "sticky": not ok}}
