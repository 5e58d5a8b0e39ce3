"""Shared test bases for finance_sync_core and the connectors."""
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import xmlrpc.client
from unittest.mock import patch

import requests

from odoo import SUPERUSER_ID, api, fields, http, sql_db
from odoo.tests import HttpCase, TransactionCase

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.finance_sync_sandbox.sandbox_server.testing import SandboxServer

from ..engine import audit_seal as A
from ..worker import QueueWorker


class HeadFileMixin:
    """A head file of the test's own (a temporary directory), starting from the database's
    committed head, so a seal made in the rolled-back test transaction cannot outlive it."""

    def use_own_head_file(self):
        folder = tempfile.mkdtemp(prefix="fsync_audit_head_")
        self.addCleanup(shutil.rmtree, folder, True)
        patcher = patch.object(A, "HEAD_DIR", folder)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.head_path = self.env["finance.audit.log"]._head_path()
        self.assertTrue(self.head_path.startswith(folder))
        return folder

    def anchor_head_file(self, cr=None):
        cr = cr or self.env.cr
        cr.execute("SELECT seq, hash FROM finance_audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1")
        seq, seal = cr.fetchone() or (0, A.GENESIS)
        A.write_head(self.head_path, {"confirmed": {"seq": seq, "seal": seal}, "pending": None})


class QueueTestMixin:
    """Run the real queue inside the test transaction."""

    def run_worker(self, env=None, batch_size=50, max_seconds=30):
        """Run the real worker loop in the test transaction (no commits) until the queue is drained."""
        worker = QueueWorker(env or self.env, batch_size=batch_size, commit=False)
        return worker.run(max_seconds=max_seconds)

    def make_ready(self, jobs):
        """Move retries scheduled in the future to now (time travel for the eta only)."""
        jobs.flush_recordset()
        self.env.cr.execute("UPDATE finance_sync_job SET eta = eta - interval '1 day' WHERE id = ANY(%s)", (jobs.ids,))
        jobs.invalidate_recordset()


class FinanceSyncCase(QueueTestMixin, TransactionCase):
    """A backend (active) and helpers to enqueue and run jobs inside the test transaction."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        # the platforms speak EUR, which a fresh database has archived (archived records cannot be mapped)
        cls.env.ref("base.EUR").active = True
        cls.backend = cls.env["finance.backend"].create({"name": "Test backend", "base_url": "http://127.0.0.1:9"})
        cls.backend.action_activate()
        cls.Job = cls.env["finance.sync.job"]

    @classmethod
    def use_sandbox(cls, seed=3, point_backend=True):
        """Start the platform simulator on a loopback port for the class (``cls.sandbox``),
        stopped at class cleanup; ``point_backend``: the test backend talks to it."""
        cls.sandbox = SandboxServer(seed=seed)
        cls.sandbox.__enter__()
        cls.addClassCleanup(cls.sandbox.__exit__, None, None, None)
        if point_backend:
            cls.backend.write({"base_url": cls.sandbox.base_url, "read_timeout": 20})


class ConnectorCase(QueueTestMixin, AccountTestInvoicingCommon):
    """Base of connector tests: an EUR accounting company and the platform simulator on a
    loopback port (``cls.sandbox``), plus a plain HTTP session (``cls.http``) to drive it."""

    sandbox_seed = 1
    sandbox_settings = {}

    @classmethod
    def setup_independent_company(cls, **kwargs):
        return super().setup_independent_company(currency_id=cls.env.ref("base.EUR").id, **kwargs)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.today = fields.Date.context_today(cls.env.user)
        cls.sandbox = SandboxServer(seed=cls.sandbox_seed, today=cls.today.isoformat(), **cls.sandbox_settings)
        cls.sandbox.start()
        cls.addClassCleanup(cls.sandbox.stop)
        cls.http = requests.Session()
        cls.http.trust_env = False
        cls.addClassCleanup(cls.http.close)


class TourCase(HttpCase):
    """HttpCase whose tours start with Odoo's table of static files already built.

    The table is built lazily by the first static request; Chromium sends several at once, and
    building it in several server threads together can hit a CPython 3.11 bug in ``ast``
    ("AST constructor recursion depth mismatch", fixed in later Python releases) that answers
    one asset request with an error page. Building it here, in the test's thread, avoids that.
    """

    def start_tour(self, *args, **kwargs):
        http.root.statics  # noqa: B018 (the lazy property is the point)
        return super().start_tour(*args, **kwargs)


class RpcCase(TourCase):
    """Calls the server as a hostile insider would: logged in over HTTP as a real user and calling
    models through ``/web/dataset/call_kw`` (what the web client and any JSON-RPC script use).

    ``make_role_user`` creates users whose password is their login; ``rpc(login, model, method,
    *args, **kwargs)`` returns ``("ok", result)`` or ``(error_name, message)`` where error_name is
    the server's exception class (``odoo.exceptions.AccessError``, ``...UserError``...).
    ``assert_denied``/``assert_allowed`` state what a cell of an access matrix expects.
    """

    @classmethod
    def make_role_user(cls, login, groups, companies=None, **values):
        companies = companies or cls.env.company
        return cls.env["res.users"].with_context(no_reset_password=True).create(dict({
            "name": login.replace("_", " ").title(), "login": login, "password": login,
            "company_id": companies[0].id, "company_ids": [(6, 0, companies.ids)],
            "groups_id": [(6, 0, [cls.env.ref(g).id for g in groups])],
        }, **values))

    def rpc(self, login, model, method, *args, **kwargs):
        if getattr(self, "_rpc_login", None) != login:
            self.authenticate(login, login)
            self._rpc_login = login
        payload = json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "model": model, "method": method, "args": list(args), "kwargs": kwargs}}).encode()
        # a generous timeout: CI may run on a loaded machine (a refusal comes back at once anyway)
        response = self.url_open("/web/dataset/call_kw/%s/%s" % (model, method), data=payload, timeout=120,
                                 headers={"Content-Type": "application/json"})
        body = response.json()
        if "error" in body:
            data = body["error"].get("data") or {}
            return data.get("name", "error"), data.get("message", "")
        return "ok", body.get("result")

    def xmlrpc(self, login, model, method, *args, **kwargs):
        """The same call over XML-RPC (``/xmlrpc/2/object``), as auditors' tools make it."""
        base = "http://127.0.0.1:%s" % self.http_port()
        proxy = xmlrpc.client.ServerProxy(base + "/xmlrpc/2/object", allow_none=True)
        uid = self.env["res.users"].search([("login", "=", login)]).id
        return proxy.execute_kw(self.env.cr.dbname, uid, login, model, method, list(args), kwargs)

    def assert_denied(self, outcome, error=None):
        name, message = outcome
        self.assertNotEqual(name, "ok", "expected a refusal, the call succeeded: %r" % (message,))
        if error:
            self.assertIn(error, name, message)
        return message

    def assert_allowed(self, outcome):
        name, result = outcome
        self.assertEqual(name, "ok", "expected success, the server refused: %s %s" % (name, result))
        return result

    # a refusal must be one of the server's own controls, never a crash
    MATRIX_REFUSALS = ("AccessError", "UserError", "MissingError", "ValidationError")

    def run_matrix(self, matrix, call, isolate=False):
        """The one runner of every access matrix of the suite.

        ``matrix``: cells ``(role, model, operation, "allow"|"deny")``; ``call(role, model,
        operation)`` performs one cell over RPC and returns the outcome of ``rpc()``, or
        ``(outcome, check)`` where ``check()`` then verifies the effect in the database (a
        refused write changed nothing, an allowed one happened). ``isolate`` rolls each cell
        back so every cell starts from the same data. All cells run; one failure lists them all.
        """
        self.assertEqual(len(set((r, m, o) for r, m, o, _e in matrix)), len(matrix), "duplicate cells")
        failures = []
        for cell in matrix:
            role, model, operation, expected = cell
            try:
                with contextlib.ExitStack() as stack:
                    savepoint = stack.enter_context(self.env.cr.savepoint()) if isolate else None
                    result = call(role, model, operation)
                    outcome, check = result if isinstance(result[0], tuple) else (result, None)
                    name, message = outcome
                    if expected == "allow" and name != "ok":
                        failures.append("%s: refused (%s %s)" % (cell, name, str(message)[:160]))
                    elif expected == "deny" and name == "ok":
                        failures.append("%s: ALLOWED" % (cell,))
                    elif expected == "deny" and not any(r in name for r in self.MATRIX_REFUSALS):
                        failures.append("%s: refused by a crash, not a control (%s %s)"
                                        % (cell, name, str(message)[:160]))
                    elif check:
                        self.env.invalidate_all()
                        check()
                    if savepoint is not None:
                        savepoint.rollback()
            except AssertionError as exc:
                failures.append("%s: %s" % (cell, exc))
            self.env.invalidate_all()
        self.assertFalse(failures, "%d of %d cells wrong:\n%s" % (len(failures), len(matrix), "\n".join(failures)))

    def assert_role_table_documented(self, name):
        """docs/admin-guide.md holds exactly the role table scripts/role_table.py generates from
        the matrix ``name`` (core, treasury, bank)."""
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
        generated = subprocess.run([sys.executable, os.path.join(root, "scripts", "role_table.py"), name],
                                   capture_output=True, text=True, check=True).stdout.strip()
        with open(os.path.join(root, "docs", "admin-guide.md"), encoding="utf-8") as guide:
            text = guide.read()
        self.assertIn(generated, text, "docs/admin-guide.md's %s role table differs from its access matrix: "
                                       "run scripts/role_table.py --write %s" % (name, name))


@contextlib.contextmanager
def committed_env(dbname, uid=SUPERUSER_ID, context=None):
    """An environment on a real, separate connection that commits on exit.

    Concurrency tests need what TransactionCase cannot give: several connections that see
    each other's commits. Whatever is committed here must be cleaned up by the test.
    """
    with sql_db.db_connect(dbname).cursor() as cr:
        yield api.Environment(cr, uid, context or {})


def shared_data_dir(*parts):
    """Folder of the shared reference data (official XSDs, sample statements, sanctions lists).

    Looked up in $FINANCE_SYNC_SHARED_DATA, then ``shared/data`` next to the repository, then
    /work/shared/data. Tests that need it fail (never skip) when it is missing.
    """
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    candidates = [os.environ.get("FINANCE_SYNC_SHARED_DATA"), os.path.join(os.path.dirname(repo), "shared", "data"),
                  "/work/shared/data"]
    for base in filter(None, candidates):
        if os.path.isdir(base):
            return os.path.join(base, *parts)
    raise AssertionError("The shared reference data is missing: set FINANCE_SYNC_SHARED_DATA to the shared/data "
                         "folder (tried %s)." % ", ".join(filter(None, candidates)))
