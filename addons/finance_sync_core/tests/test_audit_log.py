"""The audit log is append-only for the ORM, and its keyed, head-anchored chain exposes
tampering behind it: edits, reordering, insertions and deletions made with raw SQL, the newest
entries included."""
import json
import os
import threading
from unittest.mock import patch

from odoo import SUPERUSER_ID, api, sql_db
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import config

from ..engine import audit_seal as A
from ..models.finance_audit_log import entry_hash
from ..worker import QueueWorker
from .common import FinanceSyncCase, HeadFileMixin, RpcCase, committed_env


@tagged("post_install", "-at_install")
class TestAuditLog(HeadFileMixin, FinanceSyncCase):
    def setUp(self):
        super().setUp()
        self.Log = self.env["finance.audit.log"]
        self.use_own_head_file()
        self.Log._seal()  # whatever setUpClass appended
        self.anchor_head_file()
        self.entries = self.Log.browse()
        for i in range(4):
            self.entries |= self.Log._append("test.event", self.backend, "event %d" % i, data={"i": i, "amount": "10.00"})
        self.assertFalse(any(self.entries.mapped("hash")), "entries join the chain when sealed (after commit)")
        self.Log._seal()
        self.ordered = self.entries.sorted("id")

    def verify(self):
        return self.Log._verify_chain()

    def assert_broken(self, at, *words):
        ok, _count, broken, reason = self.verify()
        self.assertFalse(ok, "tampering verified as intact")
        self.assertEqual(broken, at, reason)
        for word in words:
            self.assertIn(word, reason)
        action = self.Log.action_verify_chain()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn(reason, action["params"]["message"], "the button shows the reason")
        return reason

    def commit_seal(self):
        """What the post-commit hook does once the sealing transaction committed."""
        data = A.read_head(self.head_path)
        A.confirm_head(self.head_path, data["pending"])

    def test_chain_links_each_entry_to_the_previous(self):
        ordered = self.entries.sorted("seq")
        self.assertEqual(ordered.ids, self.ordered.ids)
        for prev, entry in zip(ordered, ordered[1:]):
            self.assertEqual(entry.prev_hash, prev.hash)
            self.assertEqual(entry.seq, prev.seq + 1)
        self.assertEqual(set(self.entries.mapped("seal_alg")), {A.ALG_HMAC})
        self.assertTrue(all(self.entries.mapped("append_mac")))
        # the seal is keyed: the database alone (sha256 of its own content) does not give it
        last = ordered[-1]
        self.env.cr.execute("SELECT date, user_id, company_id, action, res_model, res_id, description, data, "
                            "correlation_id FROM finance_audit_log WHERE id = %s", (last.id,))
        content = self.Log._content(*self.env.cr.fetchone())
        key = A.audit_keys(config.get("finance_sync_encryption_key"))[0]
        self.assertEqual(last.key_id, key.key_id)
        self.assertEqual(A.seal(key, last.prev_hash, content), last.hash)
        self.assertNotEqual(entry_hash(last.prev_hash, content), last.hash)
        ok, count, broken, _reason = self.verify()
        self.assertTrue(ok, _reason)
        self.assertIsNone(broken)
        self.assertGreaterEqual(count, 4)
        head = A.read_head(self.head_path)
        self.assertEqual(head["pending"], {"seq": last.seq, "seal": last.hash}, "the head file follows each seal")
        self.assertEqual(self.Log.action_verify_chain()["params"]["type"], "success")

    def test_raw_sql_edit_is_detected_at_that_row(self):
        target = self.ordered[1]
        self.env.cr.execute("""UPDATE finance_audit_log SET data = '{"i": 1, "amount": "99999.00"}'::jsonb WHERE id = %s""",
                            (target.id,))
        self.assert_broken(target.id, "altered")

    def test_raw_sql_edit_with_recomputed_hashes_is_detected(self):
        """An attacker who knows the old algorithm recomputes sha256 seals from the edit on."""
        target = self.ordered[1]
        self.env.cr.execute("""UPDATE finance_audit_log SET description = 'harmless' WHERE id = %s""", (target.id,))
        self.env.cr.execute("SELECT id, date, user_id, company_id, action, res_model, res_id, description, data, "
                            "correlation_id, prev_hash FROM finance_audit_log WHERE seq >= %s ORDER BY seq",
                            (target.seq,))
        prev = None
        for row in self.env.cr.fetchall():
            prev = prev or row[-1]
            digest = entry_hash(prev, self.Log._content(*row[1:-1]))
            self.env.cr.execute("UPDATE finance_audit_log SET prev_hash = %s, hash = %s WHERE id = %s", (prev, digest, row[0]))
            prev = digest
        self.assert_broken(target.id, "altered")

    def test_raw_sql_reorder_is_detected(self):
        first, second = self.ordered[1], self.ordered[2]
        seq1, seq2 = first.seq, second.seq
        self.env.cr.execute("UPDATE finance_audit_log SET seq = -1 WHERE id = %s", (first.id,))
        self.env.cr.execute("UPDATE finance_audit_log SET seq = %s WHERE id = %s", (seq1, second.id))
        self.env.cr.execute("UPDATE finance_audit_log SET seq = %s WHERE id = %s", (seq2, first.id))
        self.assert_broken(second.id, "reordered")

    def test_raw_sql_delete_is_detected_at_the_next_row(self):
        self.env.cr.execute("DELETE FROM finance_audit_log WHERE id = %s", (self.ordered[1].id,))
        self.assert_broken(self.ordered[2].id, "removed")

    def test_raw_sql_delete_of_the_tail_is_detected(self):
        self.env.cr.execute("DELETE FROM finance_audit_log WHERE id IN %s", (tuple(self.ordered[2:].ids),))
        self.assert_broken(None, "deleted")

    def test_delete_of_every_entry_of_a_committed_seal_is_detected(self):
        self.commit_seal()
        self.assertIsNone(A.read_head(self.head_path)["pending"])
        self.env.cr.execute("DELETE FROM finance_audit_log WHERE id IN %s", (tuple(self.ordered.ids),))
        reason = self.assert_broken(None, "deleted")
        self.assertIn("last 4 entries", reason)

    def test_replaced_tail_is_detected(self):
        """The last entries deleted and as many genuine-looking ones appended and sealed again."""
        self.commit_seal()
        self.env.cr.execute("DELETE FROM finance_audit_log WHERE id IN %s", (tuple(self.ordered[2:].ids),))
        for i in range(2):
            self.Log._append("test.event", self.backend, "replacement %d" % i)
        self.Log._seal()  # sealed by the suite itself: seq numbers continue, the seals differ
        self.assert_broken(None, "replaced")

    def test_forged_row_with_plausible_hash_is_detected(self):
        last = self.ordered[-1]
        for alg in (None, A.ALG_HMAC):
            with self.subTest(alg=alg), self.env.cr.savepoint(flush=False) as sp:
                content = self.Log._content(last.date, self.env.uid, last.company_id.id, "treasury.release", None,
                                            None, "forged approval", None, None)
                self.env.cr.execute("""
                    INSERT INTO finance_audit_log (date, user_id, company_id, action, description, seq, prev_hash,
                                                   hash, seal_alg, key_id)
                    VALUES (%s, %s, %s, 'treasury.release', 'forged approval', %s, %s, %s, %s, %s) RETURNING id
                """, (last.date, self.env.uid, last.company_id.id, last.seq + 1, last.hash,
                      entry_hash(last.hash, content), alg, last.key_id))
                forged = self.env.cr.fetchone()[0]
                # the head file is moved on too (an attacker who could also write there)
                A.write_head(self.head_path, {"confirmed": {"seq": last.seq + 1, "seal": entry_hash(last.hash, content)},
                                              "pending": None})
                self.assert_broken(forged, "unkeyed" if alg is None else "seal")
                sp.rollback()

    def test_row_inserted_behind_the_suite_is_never_sealed(self):
        self.env.cr.execute("""
            INSERT INTO finance_audit_log (date, user_id, company_id, action, description)
            VALUES ((now() AT TIME ZONE 'UTC'), %s, %s, 'screening.clear', 'cleared by nobody') RETURNING id
        """, (self.env.uid, self.env.company.id))
        forged = self.env.cr.fetchone()[0]
        genuine = self.Log._append("test.event", self.backend, "after the forged row")
        self.assertEqual(self.Log._seal(), 1, "only the suite's own append is sealed")
        self.env.cr.execute("SELECT seq FROM finance_audit_log WHERE id = %s", (forged,))
        self.assertIsNone(self.env.cr.fetchone()[0])
        self.assertTrue(genuine.seq)
        self.assert_broken(forged, "behind the suite's back")

    def test_missing_head_file_is_reported(self):
        os.remove(self.head_path)
        reason = self.assert_broken(None, "missing")
        self.assertIn(self.head_path, reason)
        self.Log._append("test.event", self.backend, "later")
        self.Log._seal()
        self.assertFalse(os.path.exists(self.head_path), "the sealer does not re-anchor a chain on its own")

    def test_manager_reanchors_deliberately_and_it_is_audited(self):
        os.remove(self.head_path)
        self.assertFalse(self.verify()[0])
        user = self.env["res.users"].create({
            "name": "Queue user", "login": "audit_queue_user",
            "groups_id": [(6, 0, [self.env.ref("base.group_user").id,
                                  self.env.ref("finance_sync_core.group_finance_sync_user").id])]})
        with self.assertRaises(AccessError):
            self.Log.with_user(user).action_reanchor_chain()
        manager = self.env["res.users"].create({
            "name": "Sync manager", "login": "audit_sync_manager",
            "groups_id": [(6, 0, [self.env.ref("base.group_user").id,
                                  self.env.ref("finance_sync_core.group_finance_sync_manager").id])]})
        action = self.Log.with_user(manager).action_reanchor_chain()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        ok, _count, _broken, reason = self.verify()
        self.assertTrue(ok, reason)
        entry = self.Log.search([("action", "=", "audit.reanchor")])
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.user_id, manager)
        self.assertIsNone(entry.data["head_file_before"], "the entry says the file was missing")
        self.assertEqual(entry.data["database_head"]["seq"], self.ordered[-1].seq)
        # re-anchoring does not make a broken chain verify
        self.env.cr.execute("UPDATE finance_audit_log SET description = 'edited' WHERE id = %s", (self.ordered[0].id,))
        action = self.Log.with_user(manager).action_reanchor_chain()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertFalse(self.verify()[0])

    def test_seal_that_did_not_commit_is_explained(self):
        """The head file says a seal up to N+2 was pending; the database ends at the confirmed head
        (the sealing transaction rolled back, or the server stopped before the commit)."""
        self.commit_seal()
        last = self.ordered[-1]
        A.write_head(self.head_path, {"confirmed": {"seq": last.seq, "seal": last.hash},
                                      "pending": {"seq": last.seq + 2, "seal": "f" * 64}})
        ok, _count, _broken, reason = self.verify()
        self.assertTrue(ok, reason)
        self.assertIn("not committed", reason)
        self.assertIn("not committed", self.Log.action_verify_chain()["params"]["message"])

    def test_entries_sealed_before_keyed_sealing_still_verify(self):
        """An upgraded database: its chain was sealed with the unkeyed sha256 (seal_alg empty).
        It verifies, with a note, and keyed entries continue it."""
        self.env.cr.execute("SELECT id, date, user_id, company_id, action, res_model, res_id, description, data, "
                            "correlation_id FROM finance_audit_log WHERE seq IS NOT NULL ORDER BY seq")
        prev = A.GENESIS
        for row in self.env.cr.fetchall():
            digest = entry_hash(prev, self.Log._content(*row[1:]))
            self.env.cr.execute("UPDATE finance_audit_log SET prev_hash = %s, hash = %s, seal_alg = NULL, key_id = NULL, "
                                "append_mac = NULL WHERE id = %s", (prev, digest, row[0]))
            prev = digest
        self.anchor_head_file()
        ok, _count, _broken, reason = self.verify()
        self.assertTrue(ok, reason)
        self.assertIn("without a key", reason)
        later = self.Log._append("test.event", self.backend, "after the upgrade")
        self.Log._seal()
        self.assertEqual(later.seal_alg, A.ALG_HMAC)
        self.assertEqual(later.prev_hash, prev)
        ok, _count, _broken, reason = self.verify()
        self.assertTrue(ok, reason)
        # a keyed entry passed off as an old unkeyed one does not verify either
        self.env.cr.execute("UPDATE finance_audit_log SET seal_alg = NULL WHERE id = %s", (later.id,))
        self.assert_broken(later.id, "altered")

    def test_orm_cannot_write_delete_or_create(self):
        entry = self.entries[0]
        with self.assertRaises(AccessError):
            entry.write({"description": "rewritten"})
        with self.assertRaises(AccessError):
            entry.unlink()
        with self.assertRaises(AccessError):
            self.Log.create({"action": "forged"})
        with self.assertRaises(AccessError):
            entry.sudo().write({"description": "even as superuser"})

    def test_backend_and_mapping_changes_are_logged(self):
        self.backend.write({"read_timeout": 12})
        self.env["finance.mapping"].create({"backend_id": self.backend.id, "kind": "currency", "external_code": "E",
                                            "value_ref": "res.currency,%d" % self.env.ref("base.EUR").id})
        actions = self.Log.search([]).mapped("action")
        self.assertIn("backend.write", actions)
        self.assertIn("mapping.create", actions)


@tagged("post_install", "-at_install")
class TestAuditLogConcurrentAppends(HeadFileMixin, FinanceSyncCase):
    """Two transactions appending and committing at the same time, sealed by the post-commit
    hooks as in production (real connections, real commits, then cleaned up)."""

    def test_concurrent_committed_appends_verify_intact(self):
        self.use_own_head_file()
        dbname = self.env.cr.dbname
        with sql_db.db_connect(dbname).cursor() as cr:
            cr.execute("SELECT COALESCE(max(id), 0) FROM finance_audit_log")
            first_id = cr.fetchone()[0] + 1
            self.anchor_head_file(cr)
        self.addCleanup(self._drop_committed, dbname, first_id)
        per_thread, errors = 15, []

        def append(n):
            try:
                for i in range(per_thread):
                    with sql_db.db_connect(dbname).cursor() as cr:
                        env = api.Environment(cr, SUPERUSER_ID, {})
                        env["finance.audit.log"]._append("test.concurrent", None, "writer %d entry %d" % (n, i),
                                                         data={"writer": n, "i": i})
            except Exception as exc:  # reported by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=append, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        self.assertFalse(errors)
        with sql_db.db_connect(dbname).cursor() as cr:
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            cr.execute("SELECT count(*), count(DISTINCT seq), count(seq) FROM finance_audit_log WHERE id >= %s",
                       (first_id,))
            self.assertEqual(cr.fetchone(), (2 * per_thread,) * 3, "every entry sealed exactly once")
            ok, _count, broken, reason = api.Environment(cr, SUPERUSER_ID, {})["finance.audit.log"]._verify_chain_here()
            self.assertTrue(ok, "%s %s" % (broken, reason))
            cr.execute("SELECT seq, hash FROM finance_audit_log ORDER BY seq DESC LIMIT 1")
            seq, seal = cr.fetchone()
        head = A.read_head(self.head_path)
        self.assertEqual(head["confirmed"], {"seq": seq, "seal": seal}, "the committed head is confirmed in the file")
        self.assertIsNone(head["pending"])

    def _drop_committed(self, dbname, first_id):
        with sql_db.db_connect(dbname).cursor() as cr:
            cr.execute("DELETE FROM finance_audit_log WHERE id >= %s AND action = 'test.concurrent'", (first_id,))


@tagged("post_install", "-at_install")
class TestExchangeDigestsWithTheJob(FinanceSyncCase):
    """A job's HTTP digests are written with its outcome, and survive its rollback."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.use_sandbox()

    def digests(self, job):
        return self.env["finance.audit.log"].search([("action", "=", "http.exchange"),
                                                     ("correlation_id", "=", job.correlation_id)])

    def test_effectful_call_of_a_failing_job_stays_in_the_log(self):
        """POST accepted by the platform (200), then the job fails on the answer and rolls back:
        the digest of what was sent is still in the log, and it seals and verifies."""
        job = self.backend._enqueue("core.echo", {"http": {"method": "POST", "path": "/_sandbox/status/200?body=json",
                                                            "expect": "xml"}})
        self.run_worker()
        job.invalidate_recordset()
        self.assertEqual(job.state, "pending", "a malformed answer is retried later")
        self.assertEqual(job.error_code, "malformed_response")
        digest = self.digests(job)
        self.assertEqual(len(digest), 1)
        self.assertEqual(digest.description, "POST /_sandbox/status/200 -> 200")
        self.assertEqual(digest.data["status"], 200)
        self.assertEqual(len(digest.data["request_sha256"]), 64)
        self.assertTrue(digest.append_mac)
        self.env["finance.audit.log"]._seal()
        self.assertTrue(digest.seq)
        # a business failure (4xx) is recorded the same way
        job = self.backend._enqueue("core.echo", {"http": {"method": "DELETE", "path": "/_sandbox/status/422?body=json"}})
        self.run_worker()
        job.invalidate_recordset()
        self.assertEqual(job.state, "failed")
        self.assertEqual([d.data["status"] for d in self.digests(job)], [422])

    def test_successful_job_writes_its_digests_in_its_own_transaction(self):
        job = self.backend._enqueue("core.echo", {"http": {"method": "GET", "path": "/_sandbox/status/200?body=json"}})
        Log = self.env["finance.audit.log"]
        before = Log.search_count([])
        self.run_worker()
        job.invalidate_recordset()
        self.assertEqual(job.state, "done")
        digest = self.digests(job)
        self.assertEqual(len(digest), 1)
        self.assertEqual(digest.user_id, self.env.user)
        self.assertGreaterEqual(Log.search_count([]), before + 1)


class _Stopped(BaseException):
    """The worker's process being stopped mid-batch (what KeyboardInterrupt or SIGTERM raises)."""


@tagged("post_install", "-at_install")
class TestDigestsOfAnInterruptedBatch(HeadFileMixin, FinanceSyncCase):
    """A worker stopped mid-batch loses the batch's transaction, not the digests of the messages
    its jobs already sent: they are committed on a fresh connection, once each, and seal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.use_sandbox(point_backend=False)

    def setUp(self):
        super().setUp()
        self.use_own_head_file()
        self.dbname = self.env.cr.dbname
        with committed_env(self.dbname) as env:
            env.cr.execute("SELECT COALESCE(max(id), 0) FROM finance_audit_log")
            self.first_log_id = env.cr.fetchone()[0] + 1
            self.anchor_head_file(env.cr)
            backend = env["finance.backend"].create({"name": "Interrupted batch", "base_url": self.sandbox.base_url,
                                                     "read_timeout": 20})
            backend.action_activate()
            self.backend_id = backend.id
        self.addCleanup(self._cleanup)
        job_cls = type(self.env["finance.sync.job"])

        def call_then_maybe_stop(model, job):
            job.backend_id._http_client().request("GET", "/_sandbox/status/200?body=json", expect="json",
                                                  correlation_id=job.correlation_id)
            if (job.payload or {}).get("stop"):
                raise _Stopped()

        patcher = patch.object(job_cls, "_job_noop", call_then_maybe_stop)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _cleanup(self):
        with committed_env(self.dbname) as env:
            env.cr.execute("DELETE FROM finance_sync_job WHERE backend_id = %s", (self.backend_id,))
            env.cr.execute("DELETE FROM finance_backend WHERE id = %s", (self.backend_id,))
            # what this test appended is the chain's tail (tests run one at a time): dropping it
            # leaves a chain the next test anchors afresh
            env.cr.execute("DELETE FROM finance_audit_log WHERE id >= %s", (self.first_log_id,))

    def test_digests_of_an_interrupted_batch_are_committed_elsewhere(self):
        with committed_env(self.dbname) as env:
            backend = env["finance.backend"].browse(self.backend_id)
            jobs = backend._enqueue_many("core.noop", [{"key": "first"}, {"key": "second"},
                                                       {"key": "third", "payload": {"stop": True}}])
            correlations = dict(zip(jobs.ids, jobs.mapped("correlation_id")))
        with self.assertRaises(_Stopped), committed_env(self.dbname) as env:
            QueueWorker(env, batch_size=10, commit=True).run(max_seconds=60)
        with committed_env(self.dbname) as env:
            env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            env.cr.execute("SELECT correlation_id, count(*), count(seq) FROM finance_audit_log "
                           "WHERE action = 'http.exchange' AND correlation_id = ANY(%s) GROUP BY correlation_id",
                           (list(correlations.values()),))
            written = {corr: (count, sealed) for corr, count, sealed in env.cr.fetchall()}
            self.assertEqual(written, {corr: (1, 1) for corr in correlations.values()},
                             "each job's request is in the log once, and sealed")
            env.cr.execute("SELECT state FROM finance_sync_job WHERE id = %s", (jobs.ids[2],))
            self.assertEqual(env.cr.fetchone()[0], "pending", "the interrupted job goes back to the queue")
            ok, _count, broken, reason = env["finance.audit.log"]._verify_chain_here()
            self.assertTrue(ok, "%s %s" % (broken, reason))


@tagged("post_install", "-at_install")
class TestAuditLogOverRpc(RpcCase):
    """What auditors' tools and the list's header button call, over HTTP as a logged-in user."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.auditor = cls.make_role_user("audit_reader", ["base.group_user", "finance_sync_core.group_finance_sync_user"])
        cls.outsider = cls.make_role_user("audit_outsider", ["base.group_user"])
        cls.entry = cls.env["finance.audit.log"]._append(
            "test.nulls", None, "digest with nulls", data={"request_sha256": None, "nested": {"x": None}, "n": 1})

    def call_button(self, login, model, method, ids):
        """Exactly what the web client posts for a list-header button (``display="always"``)."""
        self.authenticate(login, login)
        self._rpc_login = login
        payload = json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "model": model, "method": method, "args": [ids], "kwargs": {"context": {}}}}).encode()
        body = self.url_open("/web/dataset/call_button", data=payload,
                             headers={"Content-Type": "application/json"}).json()
        if "error" in body:
            return body["error"]["data"]["name"], body["error"]["data"]["message"]
        return "ok", body["result"]

    def test_xmlrpc_search_read_with_json_nulls(self):
        rows = self.xmlrpc("audit_reader", "finance.audit.log", "search_read", [("id", "=", self.entry.id)])
        self.assertEqual(len(rows), 1)
        self.assertEqual(json.loads(rows[0]["data"]), {"request_sha256": None, "nested": {"x": None}, "n": 1})
        # JSON-RPC reads the same text; Python code keeps the parsed value
        name, result = self.rpc("audit_reader", "finance.audit.log", "read", [self.entry.id], ["data"])
        self.assertEqual(name, "ok", result)
        self.assertEqual(json.loads(result[0]["data"])["n"], 1)
        self.assertIsNone(self.entry.data["request_sha256"])

    def test_verify_chain_button_over_http(self):
        for ids in ([], [self.entry.id]):
            with self.subTest(ids=ids):
                action = self.assert_allowed(self.call_button("audit_reader", "finance.audit.log",
                                                              "action_verify_chain", ids))
                self.assertEqual(action["tag"], "display_notification")
                self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assert_denied(self.call_button("audit_outsider", "finance.audit.log", "action_verify_chain", []))
