"""The core's access matrix, over JSON-RPC as real logged-in users (one HTTP session per role).

Each cell is (role, model, operation, expected). Roles: ``portal``, ``internal`` (an employee
with no finance sync group), ``user`` (finance sync user: works the exception queue), ``manager``
(finance sync manager: configures backends, mappings, secrets), ``manager_b`` (a finance sync
manager of company B only; every record below belongs to company A unless the operation says
``own_company``). docs/admin-guide.md's role table is generated from MATRIX by
scripts/role_table.py and checked against it here.
"""
import uuid

from odoo import fields
from odoo.tests import tagged

from odoo.addons.finance_sync_core import protection

from .common import HeadFileMixin, RpcCase

ROLES = ["portal", "internal", "user", "manager", "manager_b"]
A, D = "allow", "deny"


def _row(model, operation, *expected):
    return [(role, model, operation, verdict) for role, verdict in zip(ROLES, expected)]


MATRIX = [
    # exception queue: jobs and their actions
    *_row("finance.sync.job", "read", D, D, A, A, D),
    *_row("finance.sync.job", "read own_company", D, D, D, D, A),
    *_row("finance.sync.job", "write state", D, D, D, D, D),
    *_row("finance.sync.job", "write attempts", D, D, D, D, D),
    *_row("finance.sync.job", "write idempotency_key", D, D, D, D, D),
    *_row("finance.sync.job", "write payload", D, D, D, D, D),
    *_row("finance.sync.job", "write user_id", D, D, A, A, D),
    *_row("finance.sync.job", "create", D, D, D, D, D),
    *_row("finance.sync.job", "unlink", D, D, D, D, D),
    *_row("finance.sync.job", "action_retry", D, D, A, A, D),
    *_row("finance.sync.job", "action_retry_same_cause", D, D, A, A, D),
    *_row("finance.sync.job", "action_cancel", D, D, A, A, D),
    *_row("finance.sync.job", "action_cancel cancelled", D, D, D, D, D),
    *_row("finance.sync.job", "action_resolve", D, D, A, A, D),
    *_row("finance.sync.job", "action_assign_to_me", D, D, A, A, D),
    *_row("finance.sync.job", "action_redate", D, D, A, A, D),
    *_row("finance.sync.job", "action_fix_mapping", D, D, A, A, D),
    *_row("finance.sync.job", "action_trace", D, D, A, A, D),
    *_row("finance.sync.job.resolve", "action_resolve", D, D, A, A, D),
    # backends
    *_row("finance.backend", "read", D, D, A, A, D),
    *_row("finance.backend", "read own_company", D, D, D, D, A),
    *_row("finance.backend", "read webhook_token", D, D, D, A, D),
    *_row("finance.backend", "write read_timeout", D, D, D, A, D),
    *_row("finance.backend", "write base_url", D, D, D, A, D),
    *_row("finance.backend", "write state", D, D, D, D, D),
    *_row("finance.backend", "write breaker_state", D, D, D, D, D),
    *_row("finance.backend", "write webhook_token", D, D, D, D, D),
    *_row("finance.backend", "create", D, D, D, A, D),
    *_row("finance.backend", "create active", D, D, D, D, D),
    *_row("finance.backend", "unlink", D, D, D, A, D),
    *_row("finance.backend", "action_regenerate_webhook_token", D, D, D, A, D),
    *_row("finance.backend", "action_pause", D, D, D, A, D),
    *_row("finance.backend", "action_reset_breaker", D, D, D, A, D),
    *_row("finance.backend", "action_test_connection", D, D, D, A, D),
    *_row("finance.backend", "action_view_jobs", D, D, A, A, D),
    # secrets: write-only through the backend, nobody reads them
    *_row("finance.backend", "write client_secret", D, D, D, A, D),
    *_row("finance.backend.secret", "read", D, D, D, D, D),
    *_row("finance.backend.secret", "create", D, D, D, D, D),
    # job types: the retry policy is configuration; the handler is code run as superuser
    *_row("finance.sync.job.type", "read", D, D, A, A, A),
    *_row("finance.sync.job.type", "write max_attempts", D, D, D, A, A),
    *_row("finance.sync.job.type", "write handler_method", D, D, D, D, D),
    *_row("finance.sync.job.type", "create", D, D, D, D, D),
    # mappings
    *_row("finance.mapping", "read", D, D, A, A, D),
    *_row("finance.mapping", "write value_ref", D, D, A, A, D),
    *_row("finance.mapping", "create", D, D, A, A, D),
    *_row("finance.mapping", "unlink", D, D, D, A, D),
    *_row("finance.mapping", "action_view_waiting_jobs", D, D, A, A, D),
    # audit log: read only, for the queue's people of the company
    *_row("finance.audit.log", "read", D, D, A, A, D),
    *_row("finance.audit.log", "write", D, D, D, D, D),
    *_row("finance.audit.log", "create", D, D, D, D, D),
    *_row("finance.audit.log", "unlink", D, D, D, D, D),
    *_row("finance.audit.log", "action_verify_chain", D, D, A, A, A),
    *_row("finance.audit.log", "action_reanchor_chain", D, D, D, A, A),
]


@tagged("post_install", "-at_install")
class TestAccessMatrix(HeadFileMixin, RpcCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Matrix company B"})
        cls.backend = cls.env["finance.backend"].create({"name": "Matrix A", "base_url": "http://127.0.0.1:9"})
        cls.backend.action_activate()
        cls.backend_b = cls.env["finance.backend"].create({"name": "Matrix B", "base_url": "http://127.0.0.1:9",
                                                           "company_id": cls.company_b.id})
        cls.mapping = cls.env["finance.mapping"].create({"backend_id": cls.backend.id, "kind": "currency",
                                                         "external_code": "EURO"})
        cls.logins = {role: "mx_%s" % role for role in ROLES}
        cls.make_role_user(cls.logins["portal"], ["base.group_portal"])
        cls.make_role_user(cls.logins["internal"], ["base.group_user"])
                # the documented group alone: what it implies (employee, Invoicing) must be enough for the job
        cls.make_role_user(cls.logins["user"], ["finance_sync_core.group_finance_sync_user"], email="u@example.com")
        cls.make_role_user(cls.logins["manager"], ["finance_sync_core.group_finance_sync_manager"],
                           email="m@example.com")
        cls.make_role_user(cls.logins["manager_b"], ["finance_sync_core.group_finance_sync_manager"],
                           companies=cls.company_b, email="mb@example.com")
        cls.job_b = cls.failed_job(cls.backend_b)

    def setUp(self):
        super().setUp()
        # verify and re-anchor read and write the chain head file: the test's own, never the server's
        self.use_own_head_file()
        self.env["finance.audit.log"]._seal()
        self.anchor_head_file()

    @classmethod
    def failed_job(cls, backend=None, code="unmapped"):
        job = (backend or cls.backend)._enqueue("core.echo", {}, key=uuid.uuid4().hex)
        protection.internal(job).write({"state": "failed", "error_code": code, "error_cause": "%s:EUR" % code,
                                        "date_failed": fields.Datetime.now(), "mapping_kind": "currency",
                                        "external_code": "EURO"})
        return job

    # ------------------------------------------------------------------ one call per cell
    def call(self, role, model, operation):
        login = self.logins[role]
        rpc = self.rpc
        verb, _sep, arg = operation.partition(" ")
        if model == "finance.sync.job":
            if verb == "read":
                job = self.job_b if arg == "own_company" else self.failed_job()
                return rpc(login, model, "read", job.ids, ["state", "error_code"])
            if verb == "write":
                value = {"state": "done", "attempts": 0, "idempotency_key": "event:x", "payload": {"x": 1},
                         "user_id": self.env.uid}[arg]
                return rpc(login, model, "write", self.failed_job().ids, {arg: value})
            if verb == "create":
                return rpc(login, model, "create", {"backend_id": self.backend.id, "job_type_id": 1,
                                                    "company_id": self.company_a.id})
            if verb == "unlink":
                return rpc(login, model, "unlink", self.failed_job().ids)
            args = {"action_resolve": ["handled by phone"], "action_redate": [fields.Date.today().isoformat()]}
            # a re-date applies to locked-period failures only (others are refused as "nothing to re-date")
            job = self.failed_job(code="period_locked") if verb == "action_redate" else self.failed_job()
            if arg == "cancelled":
                protection.internal(job).write({"state": "cancelled"})  # the button on a job already cancelled
            return rpc(login, model, verb, job.ids, *args.get(verb, []))
        if model == "finance.sync.job.resolve":
            name, wizard_id = rpc(login, model, "create", {"job_ids": [(6, 0, self.failed_job().ids)],
                                                           "note": "done by hand"})
            if name != "ok":
                return name, wizard_id
            return rpc(login, model, verb, [wizard_id])
        if model == "finance.backend":
            fresh = self.env[model].create({"name": "Fresh", "base_url": "http://127.0.0.1:9"})
            if verb == "read":
                backend = self.backend_b if arg == "own_company" else self.backend
                return rpc(login, model, "read", backend.ids, [arg if arg and arg != "own_company" else "name"])
            if verb == "write":
                value = {"read_timeout": 9.0, "base_url": "http://127.0.0.1:10", "state": "paused",
                         "breaker_state": "open", "webhook_token": "mine", "client_secret": "s3"}[arg]
                return rpc(login, model, "write", fresh.ids, {arg: value})
            if verb == "create":
                vals = {"name": "By %s" % role, "company_id": self.company_a.id}
                if arg == "active":
                    vals.update(state="active", webhook_token="chosen")
                return rpc(login, model, "create", vals)
            if verb == "unlink":
                return rpc(login, model, "unlink", fresh.ids)
            fresh.action_activate()
            return rpc(login, model, verb, fresh.ids)
        if model == "finance.backend.secret":
            self.backend.write({"api_key": "matrix-key"})
            if verb == "read":
                return rpc(login, model, "search_read", [], ["ciphertext"])
            return rpc(login, model, "create", {"backend_id": self.backend.id, "name": "api_key", "ciphertext": "x"})
        if model == "finance.sync.job.type":
            jtype = self.env.ref("finance_sync_core.job_type_echo")
            if verb == "read":
                return rpc(login, model, "read", jtype.ids, ["code", "max_attempts"])
            if verb == "write":
                return rpc(login, model, "write", jtype.ids, {arg: {"max_attempts": 4, "handler_method": "unlink"}[arg]})
            return rpc(login, model, "create", {"name": "x", "code": "x.%s" % role, "handler_model": "res.users",
                                                "handler_method": "unlink"})
        if model == "finance.mapping":
            fresh = self.env[model].create({"backend_id": self.backend.id, "kind": "currency",
                                            "external_code": uuid.uuid4().hex[:8]})
            if verb == "read":
                return rpc(login, model, "read", fresh.ids, ["external_code", "value_ref"])
            if verb == "write":
                return rpc(login, model, "write", fresh.ids, {"value_ref": "res.currency,%s" % self.env.ref("base.USD").id})
            if verb == "create":
                return rpc(login, model, "create", {"backend_id": self.backend.id, "kind": "currency",
                                                    "external_code": uuid.uuid4().hex[:8]})
            if verb == "unlink":
                return rpc(login, model, "unlink", fresh.ids)
            return rpc(login, model, verb, fresh.ids)
        if model == "finance.audit.log":
            entry = self.env[model].search([("company_id", "=", self.company_a.id)], limit=1)
            self.assertTrue(entry)
            if verb == "read":
                return rpc(login, model, "read", entry.ids, ["action", "description"])
            if verb == "write":
                return rpc(login, model, "write", entry.ids, {"description": "rewritten"})
            if verb == "create":
                return rpc(login, model, "create", {"action": "forged", "date": fields.Datetime.now().isoformat(" ")})
            if verb == "unlink":
                return rpc(login, model, "unlink", entry.ids)
            return rpc(login, model, verb, [])  # the list-header buttons: the client passes no ids
        raise AssertionError("no call for %s %s" % (model, operation))

    def test_matrix(self):
        self.assertGreaterEqual(len(MATRIX), 60)
        self.run_matrix(MATRIX, self.call)

    def test_company_b_manager_lists_nothing_of_company_a(self):
        """Item 10: searches over RPC return only the manager's own company, on every core model
        holding company data (reading by id is refused: see the matrix)."""
        self.failed_job()
        login = self.logins["manager_b"]
        for model in ("finance.sync.job", "finance.backend", "finance.mapping", "finance.audit.log",
                      "finance.sync.dashboard"):
            with self.subTest(model):
                rows = self.assert_allowed(self.rpc(login, model, "search_read", [], ["company_id"]))
                companies = {row["company_id"][0] for row in rows if row["company_id"]}
                self.assertNotIn(self.company_a.id, companies)
        own = self.assert_allowed(self.rpc(login, "finance.backend", "search_read", [], ["name"]))
        self.assertEqual([row["name"] for row in own], ["Matrix B"])

    def test_denied_writes_changed_nothing(self):
        """A refused RPC write leaves the record as it was (the refusal is not only a message)."""
        job = self.failed_job()
        self.rpc(self.logins["manager"], "finance.sync.job", "write", job.ids, {"state": "done"})
        job.invalidate_recordset()
        self.assertEqual(job.state, "failed")
        self.rpc(self.logins["manager_b"], "finance.backend", "write", self.backend.ids, {"read_timeout": 1.0})
        self.backend.invalidate_recordset()
        self.assertNotEqual(self.backend.read_timeout, 1.0)

    def test_admin_guide_table_matches_the_matrix(self):
        self.assert_role_table_documented("core")
