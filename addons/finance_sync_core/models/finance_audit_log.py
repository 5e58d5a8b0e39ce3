import contextlib
import datetime
import json
import logging
import threading
from functools import partial

from psycopg2.extras import execute_values

from odoo import SUPERUSER_ID, api, fields, models, sql_db
from odoo.exceptions import AccessError
from odoo.tools import config

from ..engine import audit_seal as A
from ..guard import guarded

_logger = logging.getLogger(__name__)

GENESIS = A.GENESIS
LOCK_KEY = 0x46534C47  # pg_advisory_xact_lock key serialising sealing ("FSLG")
COLUMNS = "id, date, user_id, company_id, action, res_model, res_id, description, data, correlation_id"
CONTENT_KEYS = ("date", "user_id", "company_id", "action", "res_model", "res_id", "description", "data",
                "correlation_id")

_buffers = threading.local()


def entry_hash(prev_hash, entry):
    """Unkeyed sha256 seal of entries sealed before keyed sealing (kept to verify them)."""
    return A.legacy_hash(prev_hash, entry)


@contextlib.contextmanager
def exchange_buffer(dbname):
    """Collect the HTTP exchange digests made inside the block (the worker wraps each job in
    it) instead of committing one audit entry per exchange; the worker writes them with the
    job's outcome: in the job's transaction when it succeeds, with its failure record (its own
    committed transaction) when it fails, so no digest depends on the job's rollback."""
    previous = getattr(_buffers, "current", None)
    buffer = {"dbname": dbname, "rows": []}
    _buffers.current = buffer
    try:
        yield buffer["rows"]
    finally:
        _buffers.current = previous


def _audit_keys():
    return A.audit_keys(config.get("finance_sync_encryption_key"))


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def _normalised(data):
    """The value jsonb gives back for ``data`` (what the seal will read)."""
    return json.loads(json.dumps(data, default=str)) if data else None


class JsonAsText(fields.Json):
    """A jsonb column read over RPC as its JSON text: XML-RPC cannot marshal the nulls a JSON
    document holds (``None`` inside a struct), so auditors' XML-RPC tools would fail on
    ``search_read``. Python code still gets the parsed value (``record.data``)."""

    def convert_to_read(self, value, record, use_display_name=True):
        if value is None or value is False:
            return False
        return json.dumps(value, sort_keys=True, ensure_ascii=False)


class FinanceAuditLog(models.Model):
    """Append-only, sealed chain: each entry's seal is an HMAC, under a key the database does
    not hold, of the previous seal and the entry's content; the suite signs every row it
    appends, and the chain's head is also kept in a file outside the database. An edit,
    reorder, insertion or deletion made behind the ORM's back, the newest entries included,
    is reported by ``_verify_chain``."""

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
    hash = fields.Char(readonly=True, index=True, string="Seal")
    seal_alg = fields.Char(readonly=True, string="Seal algorithm",
                           help="Empty for entries sealed with the unkeyed sha256 of earlier versions")
    key_id = fields.Char(readonly=True, help="Fingerprint of the key that sealed the entry (not the key)")
    append_mac = fields.Char(readonly=True, help="The server's signature of the entry when the suite wrote it")

    @api.depends("data")
    def _compute_data_text(self):
        for rec in self:
            rec.data_text = json.dumps(rec.data, indent=2, sort_keys=True, ensure_ascii=False) if rec.data else False

    @api.model_create_multi
    def create(self, vals_list):
        raise AccessError(self.env._("The audit log is written by the suite itself (finance.audit.log._append)."))

    def write(self, vals):
        raise AccessError(self.env._("The audit log is append-only."))

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise AccessError(self.env._("The audit log is append-only."))

    @staticmethod
    def _content(date, user_id, company_id, action, res_model, res_id, description, data, correlation_id):
        return {"date": str(date), "user_id": user_id, "company_id": company_id, "action": action,
                "res_model": res_model, "res_id": res_id, "description": description, "data": data,
                "correlation_id": correlation_id}

    # ------------------------------------------------------------------ appending
    @api.model
    def _entry_values(self, action, record=None, description="", data=None, correlation_id=None):
        """The content of one entry as the database will hold it (what its signature covers)."""
        has_company = record is not None and "company_id" in record._fields and record.company_id
        return {
            "date": _utcnow(), "user_id": self.env.uid,
            "company_id": record.company_id.id if has_company else self.env.company.id,
            "action": action, "res_model": record._name if record is not None else None,
            "res_id": record.id if record is not None else None, "description": description or "",
            "data": _normalised(data),
            "correlation_id": correlation_id or self.env.context.get("finance_sync_correlation_id"),
        }

    @api.model
    def _append(self, action, record=None, description="", data=None, correlation_id=None, autonomous=False):
        """Append one entry; it joins the chain when its transaction commits (see ``_seal``).

        ``autonomous`` writes it in its own committed transaction: used for digests of messages
        already sent, which stay true even if the transaction that sent them rolls back.
        """
        values = self._entry_values(action, record, description, data, correlation_id)
        if autonomous and not (self.env.registry.in_test_mode() or config["test_enable"]):
            with sql_db.db_connect(self.env.cr.dbname).cursor() as cr2:
                return self.with_env(self.env(cr=cr2))._append_rows([values])
        return self._append_rows([values])

    @api.model
    def _append_rows(self, rows):
        """Insert entries (dicts of ``_entry_values``) in the current transaction, each signed by
        the server over its id and content: the sealer seals only rows carrying a valid
        signature, so a row inserted by SQL is never sealed as genuine."""
        if not rows:
            return self.browse()
        cr = self.env.cr
        cr.execute("SELECT nextval('finance_audit_log_id_seq') FROM generate_series(1, %s)", (len(rows),))
        ids = [r[0] for r in cr.fetchall()]
        keys = _audit_keys()
        values = []
        for row_id, row in zip(ids, rows):
            mac = A.append_mac(keys[0], row_id, self._content(*(row[k] for k in CONTENT_KEYS))) if keys else None
            values.append((row_id, row["date"], row["user_id"], row["company_id"], row["action"], row["res_model"],
                           row["res_id"], row["description"],
                           json.dumps(row["data"]) if row["data"] is not None else None,
                           row["correlation_id"], mac))
        execute_values(cr, """
            INSERT INTO finance_audit_log (id, date, user_id, company_id, action, res_model, res_id, description,
                                           data, correlation_id, append_mac)
            VALUES %s
        """, values, template="(%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)", page_size=500)
        if not cr.postcommit.data.get("finance_audit_seal"):
            cr.postcommit.data["finance_audit_seal"] = True
            cr.postcommit.add(partial(_seal_after_commit, cr.dbname))
        return self.browse(ids)

    @api.model
    def _record_exchange(self, backend, info):
        """Digest of one HTTP exchange (no bodies, no headers). Inside a worker job it is buffered
        and written with the job's outcome (see ``exchange_buffer``); elsewhere it is committed
        at once, so the digest of a message already sent survives a rollback."""
        values = self._entry_values(
            "http.exchange", backend, "%s %s -> %s" % (info.get("method"), info.get("path"), info.get("status")),
            data={k: info.get(k) for k in ("status", "outcome", "request_sha256", "response_sha256",
                                           "idempotency_key", "duration_ms")},
            correlation_id=info.get("correlation_id"))
        buffer = getattr(_buffers, "current", None)
        if buffer is not None and buffer["dbname"] == self.env.cr.dbname:
            buffer["rows"].append(values)
            return
        if not (self.env.registry.in_test_mode() or config["test_enable"]):
            with sql_db.db_connect(self.env.cr.dbname).cursor() as cr2:
                self.with_env(self.env(cr=cr2))._append_rows([values])
            return
        self._append_rows([values])

    # ------------------------------------------------------------------ sealing
    def _head_path(self):
        return A.head_path(config.filestore(self.env.cr.dbname))

    def _db_head(self):
        """(seq, seal, sealed by this very transaction) of the last sealed entry."""
        cr = self.env.cr
        cr.execute("""SELECT seq, hash, xmin::text::bigint = txid_current() % 4294967296
                        FROM finance_audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1""")
        row = cr.fetchone()
        return row if row else (0, GENESIS, False)

    @api.model
    def _seal(self):
        """Link every committed, unsealed, server-signed entry into the chain, in one place and
        one order; return how many were sealed.

        Appends never compute seals themselves: a transaction running at REPEATABLE READ may
        not see entries committed after it started, and would fork the chain. Sealing takes
        an advisory lock and reads at READ COMMITTED (after every commit that appended), so each
        entry gets the next ``seq`` and the seal of the entry before it exactly once. Rows
        without a valid server signature (inserted behind the suite's back) are left unsealed,
        and ``_verify_chain`` reports them. While holding the lock the new head is written to
        the head file as *pending*; it becomes *confirmed* once this transaction committed.
        """
        cr = self.env.cr
        cr.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        seq, prev, mine = self._db_head()
        head_before = {"seq": seq, "seal": prev}
        # COLUMNS is this module's constant column list
        # pylint: disable-next=sql-injection
        cr.execute(f"SELECT {COLUMNS}, append_mac FROM finance_audit_log WHERE seq IS NULL ORDER BY id FOR UPDATE")
        keys = _audit_keys()
        sealed, refused = [], []
        for row in cr.fetchall():
            content = self._content(*row[1:-1])
            if keys and not A.valid_append_mac(keys, row[0], content, row[-1]):
                refused.append(row[0])
                continue
            seq += 1
            if keys:
                digest, alg, key_id = A.seal(keys[0], prev, content), A.ALG_HMAC, keys[0].key_id
            else:  # no key configured: unkeyed, and verify says the chain is not keyed
                digest, alg, key_id = A.legacy_hash(prev, content), None, None
            sealed.append((row[0], seq, prev, digest, alg, key_id))
            prev = digest
        if refused:
            _logger.warning("Audit log: %d entr(y/ies) without a valid server signature left unsealed "
                            "(inserted behind the suite's back?): ids %s", len(refused), refused[:20])
        if sealed:
            execute_values(cr, """UPDATE finance_audit_log l SET seq = v.seq, prev_hash = v.prev, hash = v.hash,
                                         seal_alg = v.alg, key_id = v.key_id
                                  FROM (VALUES %s) AS v(id, seq, prev, hash, alg, key_id) WHERE l.id = v.id""",
                           sealed)
            self.invalidate_model(["seq", "prev_hash", "hash", "seal_alg", "key_id"])
            self._write_pending_head(head_before, mine, {"seq": seq, "seal": prev})
        return len(sealed)

    def _write_pending_head(self, head_before, before_is_mine, head):
        path = self._head_path()
        try:
            with A.head_lock(path):
                data = A.read_head(path)
                if data is None and head_before["seq"] > 0:
                    _logger.warning("Audit log: head file %s is missing while the database holds sealed entries; "
                                  "not recreating it (restore it, or re-anchor the chain)", path)
                    return
                if data is not None and data.get("unreadable"):
                    _logger.warning("Audit log: head file %s is unreadable; not overwriting it", path)
                    return
                data = data or {"db": self.env.cr.dbname, "confirmed": {"seq": 0, "seal": GENESIS}, "pending": None}
                # the previous seal's pending head is in the database, committed by another
                # transaction (READ COMMITTED shows nothing else): it is confirmed
                if data.get("pending") == head_before and not before_is_mine:
                    data["confirmed"] = head_before
                data["pending"] = head
                A.write_head(path, data)
        except OSError as exc:
            _logger.error("Audit log: cannot write the head file %s: %s", path, exc)
            return
        self.env.cr.postcommit.add(partial(_confirm_head, path, head))

    # ------------------------------------------------------------------ verifying
    @api.model
    def _verify_chain(self):
        """Walk the chain in order and compare its head with the head file.

        Returns (ok, checked count, first broken id or None, reason); ``reason`` may also hold a
        note when the chain is intact (an unkeyed prefix, a seal whose commit did not happen).
        Outside tests it runs on a fresh READ COMMITTED transaction, so it sees every commit.
        """
        self.env.flush_all()
        if self.env.registry.in_test_mode() or config["test_enable"]:
            self._seal()
            return self._verify_chain_here()
        with self.env.registry.cursor() as cr:
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            Log = api.Environment(cr, SUPERUSER_ID, {})["finance.audit.log"]
            Log._seal()
            return Log._verify_chain_here()

    def _verify_chain_here(self):
        cr = self.env.cr
        keys = {k.key_id: k for k in _audit_keys()}
        # COLUMNS is this module's constant column list
        # pylint: disable-next=sql-injection
        cr.execute(f"SELECT {COLUMNS}, seq, prev_hash, hash, seal_alg, key_id, append_mac "
                   f"FROM finance_audit_log WHERE seq IS NOT NULL ORDER BY seq")
        prev, expected_seq, count, keyed_seen, unkeyed = GENESIS, 1, 0, False, 0
        seals = {}
        for row in cr.fetchall():
            count += 1
            rid, content = row[0], self._content(*row[1:10])
            seq, prev_hash, digest, alg, key_id, mac = row[10:]
            if seq != expected_seq or prev_hash != prev:
                return False, count, rid, self.env._("the entry before it is missing or was reordered (an entry was removed)")
            if alg == A.ALG_HMAC:
                key = keys.get(key_id)
                if key is None:
                    return False, count, rid, self.env._("it was sealed with a key that is not configured (keep old keys in "
                                                "finance_sync_encryption_key after a rotation)")
                if A.seal(key, prev, content) != digest:
                    return False, count, rid, self.env._("content does not match its seal (the entry was altered)")
                if not A.valid_append_mac([key], rid, content, mac):
                    return False, count, rid, self.env._("the entry was not written by the suite (no valid server signature)")
                keyed_seen = True
            elif alg is None:
                if keyed_seen:
                    return False, count, rid, self.env._("an unkeyed entry follows keyed ones (inserted behind the suite's back)")
                if A.legacy_hash(prev, content) != digest:
                    return False, count, rid, self.env._("content does not match its hash (the entry was altered)")
                unkeyed += 1
            else:
                return False, count, rid, self.env._("unknown seal algorithm %s", alg)
            seals[seq] = digest
            prev, expected_seq = digest, seq + 1
        head_seq = expected_seq - 1
        forged = self._unsealed_forgeries()
        if forged:
            return False, count, forged[0], self.env._("%s entr(y/ies) were inserted behind the suite's back (no valid "
                                              "server signature; never sealed)", len(forged))
        ok, reason = self._check_head_file(head_seq, seals)
        if not ok:
            return False, count, None, reason
        notes = [reason] if reason else []
        if unkeyed:
            notes.append(self.env._("%s entries were sealed without a key (before keyed sealing, or with no "
                           "finance_sync_encryption_key): anchored only by the keyed entries after them", unkeyed))
        if not keys:
            notes.append(self.env._("no finance_sync_encryption_key is configured: the chain is not keyed"))
        return True, count, None, "; ".join(notes)

    def _unsealed_forgeries(self):
        keys = _audit_keys()
        if not keys:
            return []
        cr = self.env.cr
        # COLUMNS is this module's constant column list
        # pylint: disable-next=sql-injection
        cr.execute(f"SELECT {COLUMNS}, append_mac FROM finance_audit_log WHERE seq IS NULL ORDER BY id")
        return [row[0] for row in cr.fetchall()
                if not A.valid_append_mac(keys, row[0], self._content(*row[1:-1]), row[-1])]

    def _check_head_file(self, head_seq, seals):
        """Compare the database's last sealed entry with the head file (ok, reason)."""
        path = self._head_path()
        data = A.read_head(path)
        if data is None:
            if head_seq == 0:
                return True, ""
            return False, self.env._("the chain head file %s is missing while the database holds %s sealed entries: "
                            "deleted or replaced entries at the end cannot be excluded (restore the file "
                            "that belongs to this database, or re-anchor the chain)", path, head_seq)
        if data.get("unreadable"):
            return False, self.env._("the chain head file %s is unreadable", path)
        confirmed, pending = data["confirmed"], data.get("pending")
        if head_seq < confirmed["seq"]:
            return False, self.env._("the last %(n)s entries were deleted: the chain ends at %(seq)s, the head file "
                            "records %(head)s", n=confirmed["seq"] - head_seq, seq=head_seq, head=confirmed["seq"])
        if confirmed["seq"] and seals.get(confirmed["seq"]) != confirmed["seal"]:
            return False, self.env._("the entries from %s on were replaced: its seal differs from the head file's",
                            confirmed["seq"])
        if pending:
            if head_seq >= pending["seq"]:
                if seals.get(pending["seq"]) != pending["seal"]:
                    return False, self.env._("the entries up to %s were replaced: its seal differs from the head file's",
                                    pending["seq"])
            elif head_seq != confirmed["seq"]:
                return False, self.env._("the last %(n)s entries were deleted: the chain ends at %(seq)s, the head file "
                                "records %(head)s", n=pending["seq"] - head_seq, seq=head_seq, head=pending["seq"])
            else:
                return True, self.env._("the last seal written to the head file (up to %s) was not committed "
                               "(rolled back, or the server stopped)", pending["seq"])
            if head_seq > pending["seq"]:
                return False, self.env._("entries %(a)s to %(b)s were sealed without the head file (another server with "
                                "another data directory?)", a=pending["seq"] + 1, b=head_seq)
        elif head_seq > confirmed["seq"]:
            return False, self.env._("entries %(a)s to %(b)s were sealed without the head file (another server with "
                            "another data directory?)", a=confirmed["seq"] + 1, b=head_seq)
        return True, ""

    @guarded("finance_sync_core.group_finance_sync_user")
    def action_verify_chain(self):
        """"Verify chain" list-header button: the web client passes the selected ids (often
        none); the whole chain is verified whatever they are."""
        ok, count, broken, reason = self._verify_chain()
        if ok:
            message = self.env._("Audit chain intact: %s entries verified.", count)
            if reason:
                message += " " + self.env._("Note: %s.", reason)
            kind = "success"
        elif broken:
            message, kind = self.env._("Audit chain BROKEN at entry %(id)s: %(reason)s.", id=broken, reason=reason), "danger"
        else:
            message, kind = self.env._("Audit chain BROKEN: %s.", reason), "danger"
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": self.env._("Verify chain"), "message": message, "type": kind, "sticky": not ok}}

    @guarded("finance_sync_core.group_finance_sync_manager")
    def action_reanchor_chain(self):
        """Make the head file match the database again, deliberately (after restoring a database
        backup without its head file, or moving it to a server with another data directory).
        The act is itself an audit entry naming the manager, the old file state and the head it
        anchors; verify still checks every seal. Use only after checking why they differ."""
        path = self._head_path()
        if self.env.registry.in_test_mode() or config["test_enable"]:
            return self._reanchor(path, self.env.cr, self.env.uid)
        with self.env.registry.cursor() as cr:
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            return self._reanchor(path, cr, self.env.uid)  # its seal is confirmed when this commits

    def _reanchor(self, path, cr, uid):
        Log = api.Environment(cr, uid, {})["finance.audit.log"]
        Log._seal()
        old = A.read_head(path)
        seq, seal, _mine = Log._db_head()
        Log._append("audit.reanchor", None, "Chain head file re-anchored by a manager",
                    data={"head_file_before": old, "database_head": {"seq": seq, "seal": seal}})
        with A.head_lock(path):
            # the new entry is sealed right after: the file is (re)written from the database's head
            A.write_head(path, {"db": cr.dbname, "confirmed": {"seq": seq, "seal": seal}, "pending": None})
        Log._seal()
        ok, count, broken, reason = Log._verify_chain_here()
        message = self.env._("Chain head re-anchored at entry %(seq)s. %(result)s", seq=seq + 1,
                    result=self.env._("Chain verifies.") if ok else self.env._("The chain itself is still broken at %(id)s: %(r)s",
                                                              id=broken, r=reason))
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": self.env._("Re-anchor chain"), "message": message,
                           "type": "success" if ok else "danger", "sticky": not ok}}


def _seal_after_commit(dbname):
    """Post-commit hook: seal what the committed transaction appended, on a fresh connection."""
    with sql_db.db_connect(dbname).cursor() as cr:
        cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        env = api.Environment(cr, SUPERUSER_ID, {})
        env["finance.audit.log"]._seal()


def _confirm_head(path, head):
    try:
        A.confirm_head(path, head)
    except OSError as exc:
        _logger.error("Audit log: cannot confirm the head file %s: %s", path, exc)
