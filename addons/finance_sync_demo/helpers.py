"""Plain functions the demo steps share (models/*_demo.py): the simulator's settings and scenario
endpoints, the one backend per platform, a job worker run that never fails an install."""
import contextlib
import logging

import requests

_logger = logging.getLogger(__name__)

DEMO_WORKER_SECONDS = 120
DEMO_COMPANY_XMLID = "finance_sync_demo.demo_company"
DEMO_COMPANY = {"name": "Finance Sync Demo SA", "street": "Rue de la Loi 16", "zip": "1000", "city": "Bruxelles",
                "email": "finance@example.com", "vat": False}


def demo_company(env):
    """The demo's company: "Finance Sync Demo SA", in EUR as every platform of the sandbox, with
    Odoo's generic chart of accounts. Odoo's own demo company keeps its USD entries (its currency
    cannot change once it has entries); the administrator works in this one (default company).
    Made by the first demo step that needs it, the same one afterwards."""
    company = env.ref(DEMO_COMPANY_XMLID, raise_if_not_found=False)
    if company:
        return company
    eur = env.ref("base.EUR")
    eur.active = True
    company = env["res.company"].create(dict(DEMO_COMPANY, currency_id=eur.id, country_id=env.ref("base.be").id))
    env["ir.model.data"]._update_xmlids([{"xml_id": DEMO_COMPANY_XMLID, "record": company, "noupdate": True}])
    # _load, not try_loading: during the module install the registry is not marked loaded yet
    env["account.chart.template"]._load("generic_coa", company, install_demo=False)
    company.currency_id = eur  # the generic chart sets USD; no entry exists yet, so it may change
    users = env.ref("base.user_admin") | env.ref("base.user_root")
    users.write({"company_ids": [(4, company.id)]})
    env.ref("base.user_admin").company_id = company  # the web client opens on the demo company
    # the screening jobs' own backend (compliance_screening) serves the company that screens
    local = env.ref("compliance_screening.backend_screening", raise_if_not_found=False)
    if local and not local.job_ids:
        local.company_id = company
    _logger.info("Demo data: company %s (EUR, generic chart) created", company.name)
    return company


def demo_sandbox_settings(base_url, timeout=3.0):
    """The simulator's settings (seed, employee_count...), or None (with a warning) when it
    does not answer: the demo data then skip everything that needs the network."""
    try:
        with requests.Session() as http:
            http.trust_env = False
            response = http.get("%s/_sandbox/settings" % base_url, timeout=timeout)
            response.raise_for_status()
            return response.json()["settings"]
    except (requests.RequestException, ValueError, KeyError) as exc:
        _logger.warning("Demo data: the platform sandbox at %s does not answer (%s); the demo syncs are "
                        "skipped (scripts/run and docker compose start it, see README.md)", base_url, exc)
        return None


class DemoSandboxAdmin:
    """The simulator's scenario endpoints (/_sandbox/...; no authentication)."""

    def __init__(self, base_url, timeout=10.0):
        self.base_url = base_url
        self.timeout = timeout

    def request(self, method, path, body=None):
        with requests.Session() as http:
            http.trust_env = False
            response = http.request(method, self.base_url + path, json=body, timeout=self.timeout)
            response.raise_for_status()
            return response.json()

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body=None):
        return self.request("POST", path, body)


def demo_platform_backend(env, base_url, prefix, kind):
    """The backend of ``kind`` already serving the sandbox platform ``prefix`` (a demo step run
    again), so that each platform has one backend; empty when there is none yet."""
    return env["finance.backend"].with_context(active_test=False).search(
        [("base_url", "=", "%s/%s" % (base_url, prefix)), ("kind", "=", kind)], order="id", limit=1)


@contextlib.contextmanager
def demo_exchanges(env):
    """Demo data: the audit digests of the HTTP exchanges made in the block outside any job are
    written in the install's transaction, as the worker writes a job's. Outside jobs they are
    committed on a cursor of their own, which cannot see the demo company and backends the
    install has not committed yet (a foreign-key error in the log, the digest lost)."""
    from odoo.addons.finance_sync_core.models.finance_audit_log import exchange_buffer

    with exchange_buffer(env.cr.dbname) as digests:
        yield
        env["finance.audit.log"].sudo()._append_rows(digests)


def demo_run_jobs(env, label, enqueue=None, max_seconds=DEMO_WORKER_SECONDS):
    """Demo data: call ``enqueue`` (a pull, a release...), then run the job worker in the
    install's transaction until the queue is drained. Never raises: a demo install must not
    fail because a platform misbehaves; a warning says what did not happen."""
    from odoo.addons.finance_sync_core.worker import QueueWorker

    if enqueue is not None:
        try:
            with demo_exchanges(env), env.cr.savepoint():
                enqueue()
        except Exception as exc:
            _logger.warning("Demo data: %s failed (%s); its jobs are not run", label, exc)
            return 0
    try:
        done = QueueWorker(env, commit=False).run(max_seconds=max_seconds)
    except Exception as exc:
        _logger.warning("Demo data: %s: the job worker stopped (%s)", label, exc)
        return 0
    env.invalidate_all()  # the worker wrote through its own environment
    _logger.info("Demo data: %s: %d job(s) run", label, done)
    return done
