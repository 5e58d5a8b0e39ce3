import hashlib
import json
from functools import partial

from psycopg2.extras import execute_values

from odoo import SUPERUSER_ID, api, fields, models, sql_db
from odoo.exceptions import AccessError
from odoo.modules.registry import Registry
from odoo.tools import config

from ..guard import guarded

GENESIS = "0" * 64
LOCK_KEY = 0x46534C47  # pg_advisory_xact_lock key serialising sealing ("FSLG")
COLUMNS = "id, date, user_id, company_id, action, res_model, res_id, description, data, correlation_id"


def entry_hash(prev_hash, entry):
    """sha256 over the previous hash and a canonical JSON of the entry's content."""
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


class JsonAsText(fields.Json):
    """A jsonb column read over RPC as its JSON text: XML-RPC cannot marshal the nulls a JSON
    document holds (``None`` inside a struct), so auditors' XML-RPC tools would fail on
    ``search_read``. Python code still gets the parsed value (``record.data``)."""

    def convert_to_read(self, value, record, use_display_name=True):
        if value is None or value is False:
            return False
        return json.dumps(value, sort_keys=True, ensure_ascii=False)


class FinanceAuditLog(models.Model):
    """Append-only, hash-chained log: each row holds the sha256 of the previous one, so an
    edit or a deletion made behind the ORM's back breaks the chain at that row."""

    _name = "finance.audit.log"
    _description = "Finance Sync Audit Log"
    _order = "id desc"
    _sql_constraints = [("seq_unique", "UNIQUE(seq)", "Two audit entries cannot hold the same chain position.")]
    _rec_name = "action"
    _log_access = False

    date = fields.Datetime(required=True, readonly=True, index=True)
    user_id = fields.Many2one("res.users", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    action = fields.Char(required=True, readonly=True, index=True)
    res_model = fields.Char(readonly=True, index=True)
    res_id = fields.Integer(readonly=True, index=True)
    description = fields.Text(readonly=True)
    data = JsonAsText(readonly=True, help="JSON text when read over RPC")
    data_text = fields.Text(compute="_compute_data_text", string="Data (JSON)")
    correlation_id = fields.Char(readonly=True, index=True)
    seq = fields.Integer(readonly=True, index=True, help="Position in the hash chain (set when the entry is sealed)")
    prev_hash = fields.Char(readonly=True)
    hash = fields.Char(readonly=True, index=True)

    @api.depends("data")
    def _compute_data_text(self):
        for rec in self:
            rec.data_text = json.dumps(rec.data, indent=2, sort_keys=True, ensure_ascii=False) if rec.data else False

    @api.model_create_multi
    def create(self, vals_list):
        raise AccessError(self.env._("The audit log is written by the suite itself (finance.audit.log._append)."))

    def write(self, vals):
        raise AccessError(self.env._("The audit log is append-only."))

    def unlink(self):
        raise AccessError(self.env._("The audit log is append-only."))

    @staticmethod
    def _content(date, user_id, company_id, action, res_model, res_id, description, data, correlation_id):
        return {"date": str(date), "user_id": user_id, "company_id": company_id, "action": action,
                "res_model": res_model, "res_id": res_id, "description": description, "data": data,
                "correlation_id": correlation_id}

    @api.model
    def _append(self, action, record=None, description="", data=None, correlation_id=None, autonomous=False):
        """Append one entry; it joins the hash chain when its transaction commits (see ``_seal``).

        ``autonomous`` writes it in its own committed transaction: used for digests of messages
        already sent, which stay true even if the job that sent them rolls back.
        """
        if autonomous and not (self.env.registry.in_test_mode() or config["test_enable"]):
            with sql_db.db_connect(self.env.cr.dbname).cursor() as cr2:
                return self.with_env(self.env(cr=cr2))._append(action, record, description, data, correlation_id)
        cr = self.env.cr
        has_company = record is not None and "company_id" in record._fields and record.company_id
        cr.execute("""
            INSERT INTO finance_audit_log (date, user_id, company_id, action, res_model, res_id, description,
                                           data, correlation_id)
            VALUES (date_trunc('microseconds', clock_timestamp() AT TIME ZONE 'UTC'), %s, %s, %s, %s, %s, %s, %s::jsonb, %s)
            RETURNING id
        """, (self.env.uid, record.company_id.id if has_company else self.env.company.id, action,
              record._name if record is not None else None, record.id if record is not None else None,
              description or "", json.dumps(data, default=str) if data else None,
              correlation_id or self.env.context.get("finance_sync_correlation_id")))
        entry = self.browse(cr.fetchone()[0])
        if not cr.postcommit.data.get("finance_audit_seal"):
            cr.postcommit.data["finance_audit_seal"] = True
            cr.postcommit.add(partial(_seal_after_commit, cr.dbname))
        return entry

    @api.model
    def _seal(self):
        """Link every committed, unsealed entry into the chain, in one place and one order.

        Appends never compute hashes themselves: a transaction running at REPEATABLE READ may
        not see entries committed after it started, and would fork the chain. Sealing takes
        an advisory lock and reads at READ COMMITTED (after every commit that appended), so each
        entry gets the next ``seq`` and the hash of the entry before it exactly once.
        """
        cr = self.env.cr
        cr.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        cr.execute("SELECT seq, hash FROM finance_audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1")
        row = cr.fetchone()
        seq, prev = row if row else (0, GENESIS)
        cr.execute(f"SELECT {COLUMNS} FROM finance_audit_log WHERE seq IS NULL ORDER BY id FOR UPDATE")
        sealed = []
        for row in cr.fetchall():
            seq += 1
            digest = entry_hash(prev, self._content(*row[1:]))
            sealed.append((row[0], seq, prev, digest))
            prev = digest
        if sealed:
            execute_values(cr, """UPDATE finance_audit_log l SET seq = v.seq, prev_hash = v.prev, hash = v.hash
                                  FROM (VALUES %s) AS v(id, seq, prev, hash) WHERE l.id = v.id""", sealed)
            self.invalidate_model(["seq", "prev_hash", "hash"])
        return len(sealed)

    @api.model
    def _verify_chain(self):
        """Walk the chain in order; return (ok, checked count, first broken id or None, reason)."""
        self.env.flush_all()
        self._seal()
        cr = self.env.cr
        cr.execute(f"SELECT {COLUMNS}, seq, prev_hash, hash FROM finance_audit_log ORDER BY seq")
        prev, expected_seq, count = GENESIS, 1, 0
        for row in cr.fetchall():
            count += 1
            rid, content, (seq, prev_hash, digest) = row[0], row[1:-3], row[-3:]
            if seq != expected_seq or prev_hash != prev:
                return False, count, rid, "the entry before it is missing or was reordered (an entry was removed)"
            if entry_hash(prev, self._content(*content)) != digest:
                return False, count, rid, "content does not match its hash (the entry was altered)"
            prev, expected_seq = digest, seq + 1
        return True, count, None, ""

    @guarded("finance_sync_core.group_finance_sync_user")
    def action_verify_chain(self):
        """"Verify chain" list-header button: the web client passes the selected ids (often
        none); the whole chain is verified whatever they are."""
        ok, count, broken, reason = self._verify_chain()
        if ok:
            message, kind = self.env._("Audit chain intact: %s entries verified.", count), "success"
        else:
            message, kind = self.env._("Audit chain BROKEN at entry %(id)s: %(reason)s.", id=broken, reason=reason), "danger"
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": self.env._("Verify chain"), "message": message, "type": kind, "sticky": not ok}}


def _seal_after_commit(dbname):
    """Post-commit hook: seal what the committed transaction appended, on a fresh cursor."""
    registry = Registry(dbname)
    with registry.cursor() as cr:
        cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["finance.audit.log"]._seal()
