"""The dashboard cards: one kanban card per backend, built like Odoo's accounting dashboard
(``account.journal``'s ``kanban_dashboard`` / ``kanban_dashboard_graph``): two computed JSON
fields read in a few grouped queries for every card at once, and one button method that opens
the list behind a number, filtered.

The figures reuse what the operations side already computes: the backend's health fields
(``_compute_health``: exceptions, jobs waiting, error rate, last success), its consent expiry
(``_consent_expiry``), the job model's age buckets (``_aging_bucket_sql``) and the monitor's
definitions of unmatched bank lines and late payment confirmations. Only backends the user may
read get a card (the multi-company record rule of ``finance.backend``), and every count is
restricted to those backends' jobs."""
import json
from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import UserError

from ..engine import states as S
from ..guard import guarded
from .finance_sync_job import AGING_BUCKETS

USER = "finance_sync_core.group_finance_sync_user"
BUCKETS = [label for _hours, label in AGING_BUCKETS] + ["older"]
BUCKET_LABELS = {"0-4 h": "0-4 h", "4-24 h": "4-24 h", "1-3 days": "1-3 d", "older": "> 3 d"}
# upper bound (hours) of each bucket, None for the open-ended one
BUCKET_UPPER = dict([(label, hours) for hours, label in AGING_BUCKETS] + [("older", None)])
BUCKET_LOWER = {label: lower for label, lower in zip(BUCKETS, [0] + [h for h, _l in AGING_BUCKETS])}
TOP_CODES = 4


class FinanceBackend(models.Model):
    _inherit = "finance.backend"

    dashboard_json = fields.Text(compute="_compute_dashboard", string="Dashboard figures")
    dashboard_graph = fields.Text(compute="_compute_dashboard", string="Dashboard graph")

    # ------------------------------------------------------------------ figures
    def _compute_dashboard(self):
        figures = self._dashboard_figures()
        for backend in self:
            data = figures.get(backend.id) or {}
            backend.dashboard_json = json.dumps(data, sort_keys=True)
            backend.dashboard_graph = json.dumps(self._dashboard_graph_data(data))

    def _dashboard_figures(self):
        """{backend id: dict of card figures} for the backends in ``self``, in a fixed number of
        queries whatever the number of backends (grouped SQL, no per-record loops over jobs)."""
        ids = [bid for bid in self.ids if isinstance(bid, int)]
        if not ids:
            return {}
        self.env["finance.sync.job"].flush_model()
        cr = self.env.cr
        sla = float(self.env["ir.config_parameter"].sudo().get_param("finance_sync.sla_hours", 24))
        bucket_sql = self.env["finance.sync.job"]._aging_bucket_sql()
        cr.execute(f"""
            SELECT j.backend_id, {bucket_sql}, count(*) FROM finance_sync_job j
             WHERE j.backend_id = ANY(%s) AND j.state = %s GROUP BY 1, 2
        """, (ids, S.FAILED))
        buckets = {}
        for backend_id, bucket, count in cr.fetchall():
            buckets.setdefault(backend_id, {})[bucket] = count
        cr.execute("""
            SELECT j.backend_id,
                   count(*) FILTER (WHERE j.date_failed < (now() AT TIME ZONE 'UTC') - make_interval(secs => %s)),
                   max(extract(epoch FROM (now() AT TIME ZONE 'UTC') - j.date_failed)) / 3600.0,
                   count(*) FILTER (WHERE j.user_id IS NULL)
              FROM finance_sync_job j
             WHERE j.backend_id = ANY(%s) AND j.state = %s GROUP BY 1
        """, (sla * 3600.0, ids, S.FAILED))
        late = {row[0]: row[1:] for row in cr.fetchall()}
        # causes: open exceptions that entered the queue this week (last 7 days) against the week before
        cr.execute("""
            SELECT j.backend_id, COALESCE(j.error_code, 'unknown'), count(*),
                   count(*) FILTER (WHERE j.date_failed >= (now() AT TIME ZONE 'UTC') - interval '7 days'),
                   count(*) FILTER (WHERE j.date_failed < (now() AT TIME ZONE 'UTC') - interval '7 days'
                                      AND j.date_failed >= (now() AT TIME ZONE 'UTC') - interval '14 days')
              FROM finance_sync_job j
             WHERE j.backend_id = ANY(%s) AND j.state = %s GROUP BY 1, 2
        """, (ids, S.FAILED))
        codes = {}
        for backend_id, code, total, this_week, last_week in cr.fetchall():
            codes.setdefault(backend_id, []).append(
                {"code": code, "open": total, "this_week": this_week, "last_week": last_week,
                 "growing": this_week > last_week})
        cr.execute("""
            SELECT backend_id, count(*) FILTER (WHERE state = %s), count(*) FILTER (WHERE state = %s)
              FROM finance_sync_job WHERE backend_id = ANY(%s) AND state IN %s GROUP BY 1
        """, (S.PENDING, S.RUNNING, ids, (S.PENDING, S.RUNNING)))
        waiting = {row[0]: row[1:] for row in cr.fetchall()}
        monitor = self.env["finance.sync.monitor"]
        bank = monitor._bank_lines_unmatched_by_backend(ids)
        confirmations = monitor._payment_confirmations_late_by_backend(ids)
        expiry = self._consent_expiry()
        now = fields.Datetime.now()
        show_company = len(self.company_id) > 1
        result = {}
        for backend in self:
            by_bucket = buckets.get(backend.id, {})
            n_late, oldest, unassigned = late.get(backend.id, (0, None, 0))
            pending, running = waiting.get(backend.id, (0, 0))
            causes = sorted(codes.get(backend.id, []), key=lambda c: (-c["this_week"], -c["open"], c["code"]))
            ends = expiry.get(backend)
            result[backend.id] = {
                # backend.exception_count / queue_depth come from _compute_health (same rows)
                "exceptions": backend.exception_count,
                "buckets": [{"bucket": b, "label": BUCKET_LABELS[b], "count": by_bucket.get(b, 0),
                             "late": self._bucket_past_sla(b, sla)} for b in BUCKETS],
                "past_sla": n_late,
                "sla_hours": sla,
                "oldest_hours": round(float(oldest), 1) if oldest is not None else None,
                "unassigned": unassigned,
                "causes": causes[:TOP_CODES],
                "more_causes": max(0, len(causes) - TOP_CODES),
                "pending": pending,
                "running": running,
                "error_rate": round(backend.error_rate, 1),
                "breaker": backend.breaker_state,
                "last_success": fields.Datetime.to_string(backend.last_success_at) if backend.last_success_at else False,
                "consent_expires": fields.Datetime.to_string(ends) if ends else False,
                "consent_state": (False if not ends else "expired" if ends <= now
                                  else "soon" if ends <= now + timedelta(days=7) else "ok"),
                "bank_lines_unmatched": None if bank is None else bank.get(backend.id, 0),
                "has_bank_journals": bank is not None and backend.id in bank,
                "confirmations_late": None if confirmations is None else confirmations.get(backend.id, 0),
                "has_batches": confirmations is not None and backend.id in confirmations,
                # the platform, not the business data: a breaker that opened, or a consent that ended
                # (business exceptions, e.g. unmatched bank lines, count in the error rate, not here)
                "failing": backend.state == "active" and (backend.breaker_state != "closed"
                                                          or bool(ends and ends <= now)),
                "show_company": show_company,
            }
        return result

    @staticmethod
    def _bucket_past_sla(bucket, sla):
        lower = BUCKET_LOWER[bucket]
        return lower >= sla

    def _dashboard_graph_data(self, data):
        """The ``dashboard_graph`` widget's bar format: open exceptions per age bucket, the buckets
        past the SLA in the warning colour ("past"), the others in the normal one ("future")."""
        values = [{"label": b["label"], "value": b["count"], "type": "past" if b["late"] else "future"}
                  for b in data.get("buckets", [])]
        empty = not any(v["value"] for v in values)
        return [{"key": self.env._("Open exceptions by age"), "values": values, "is_sample_data": empty}]

    # ------------------------------------------------------------------ buttons
    @guarded(USER)
    def action_dashboard_open(self):
        """Open the list behind a card figure; ``dashboard_list`` in the context names it:
        ``exceptions`` (optionally with ``bucket`` or ``error_code``), ``past_sla``, ``unassigned``,
        ``waiting``, ``bank_lines``, ``late_confirmations``, ``analysis``."""
        self.ensure_one()
        self.check_access("read")
        what = self.env.context.get("dashboard_list") or "exceptions"
        if what == "bank_lines":
            return self._dashboard_action_bank_lines()
        if what == "late_confirmations":
            return self._dashboard_action_late_confirmations()
        if what == "analysis":
            action = self.env["ir.actions.act_window"]._for_xml_id("finance_sync_core.finance_sync_dashboard_action_analysis")
            action["context"] = {"search_default_backend_id": self.id, "search_default_group_code": 1}
            action["display_name"] = self.env._("Exception analysis - %s", self.name)
            return action
        xmlid = "finance_sync_core.finance_sync_job_action" if what == "waiting" else "finance_sync_core.finance_sync_job_action_exceptions"
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        context = {"search_default_backend_id": self.id}
        domain = [("backend_id", "=", self.id)]
        title = self.env._("Exceptions - %s", self.name)
        if what == "waiting":
            context.update(search_default_pending=1, search_default_running=1)
            title = self.env._("Jobs waiting - %s", self.name)
        elif what == "exceptions":
            context["search_default_failed"] = 1
            bucket = self.env.context.get("bucket")
            code = self.env.context.get("error_code")
            if bucket:
                if bucket not in BUCKETS:
                    raise UserError(self.env._("Unknown age bucket %s.", bucket))
                domain += self._bucket_domain(bucket)
                title = self.env._("Exceptions %(bucket)s old - %(backend)s", bucket=BUCKET_LABELS[bucket], backend=self.name)
            if code:
                domain += [("error_code", "=", False if code == "unknown" else code)]
                title = self.env._("Exceptions %(code)s - %(backend)s", code=code, backend=self.name)
        elif what == "past_sla":
            context["search_default_failed"] = 1
            sla = float(self.env["ir.config_parameter"].sudo().get_param("finance_sync.sla_hours", 24))
            domain += [("state", "=", S.FAILED), ("date_failed", "<", fields.Datetime.now() - timedelta(hours=sla))]
            title = self.env._("Exceptions past the SLA - %s", self.name)
        elif what == "unassigned":
            context.update(search_default_failed=1, search_default_unassigned=1)
            title = self.env._("Unassigned exceptions - %s", self.name)
        else:
            raise UserError(self.env._("Unknown dashboard list %s.", what))
        action.update(domain=domain, context=context, display_name=title)
        return action

    def _bucket_domain(self, bucket):
        now = fields.Datetime.now()
        domain = [("state", "=", S.FAILED)]
        lower, upper = BUCKET_LOWER[bucket], BUCKET_UPPER[bucket]
        # the SQL bucket is "date_failed > now - upper" for the first matching bound
        if upper is not None:
            domain.append(("date_failed", ">", now - timedelta(hours=upper)))
        if lower and upper is None:  # the open-ended bucket also holds exceptions without a date
            domain += ["|", ("date_failed", "=", False), ("date_failed", "<=", now - timedelta(hours=lower))]
        elif lower:
            domain.append(("date_failed", "<=", now - timedelta(hours=lower)))
        return domain

    def _dashboard_action_bank_lines(self):
        journals = self.env["finance.sync.monitor"]._bank_journals_of_backends(self.ids)
        if journals is None:
            raise UserError(self.env._("The bank feed addon is not installed."))
        action = {"type": "ir.actions.act_window", "res_model": "account.bank.statement.line",
                  "name": self.env._("Bank lines not reconciled - %s", self.name), "view_mode": "list,form",
                  "views": [(False, "list"), (False, "form")],
                  "domain": [("journal_id", "in", journals.get(self.id, [])), ("is_reconciled", "=", False)],
                  "context": {"create": False}}
        own = self.env.ref("bank_reconcile_feed.account_bank_statement_line_action", raise_if_not_found=False)
        if own:
            base = self.env["ir.actions.act_window"]._for_xml_id("bank_reconcile_feed.account_bank_statement_line_action")
            base.update({k: action[k] for k in ("domain", "name")}, context={"create": False})
            base["display_name"] = action["name"]
            return base
        return action

    def _dashboard_action_late_confirmations(self):
        monitor = self.env["finance.sync.monitor"]
        if monitor._payment_confirmations_late_by_backend(self.ids) is None:
            raise UserError(self.env._("The treasury connector is not installed."))
        action = {"type": "ir.actions.act_window", "res_model": "treasury.payment.batch",
                  "name": self.env._("Payment confirmations late - %s", self.name), "view_mode": "list,form",
                  "views": [(False, "list"), (False, "form")],
                  "domain": monitor._payment_confirmations_late_domain() + [("backend_id", "=", self.id)],
                  "context": {"create": False}}
        if self.env.ref("treasury_connector.treasury_payment_batch_action", raise_if_not_found=False):
            base = self.env["ir.actions.act_window"]._for_xml_id("treasury_connector.treasury_payment_batch_action")
            base.update(domain=action["domain"], name=action["name"], display_name=action["name"], context={"create": False})
            return base
        return action
