"""Alerts inside Odoo: overdue exceptions get an activity and a note on their backend, open
breakers and ending consents notify the managers. Each alert is stored with a fingerprint of
what it said; it is raised again only when that changes (a new failure, a new opening, a new
expiry date), never on every run."""
import logging
from datetime import timedelta

from markupsafe import Markup, escape

from odoo import api, fields, models

from ..engine import states as S

_logger = logging.getLogger(__name__)
CONSENT_WARNING_DAYS = 7


class FinanceSyncAlert(models.Model):
    _name = "finance.sync.alert"
    _description = "Finance Sync Alert Sent"
    _order = "id desc"

    key = fields.Char(required=True, readonly=True, help="What the alert is about, e.g. sla:job:42, breaker:3")
    fingerprint = fields.Char(readonly=True, help="The state alerted; a different state alerts again")
    date = fields.Datetime(readonly=True)

    _sql_constraints = [("key_unique", "UNIQUE(key)", "One alert record per subject.")]

    @api.model
    def _claim(self, key, fingerprint):
        """True when ``key`` was not alerted yet in this state (records it): an upsert on the unique
        key, so two crons running at once cannot both alert."""
        self.env.cr.execute("""
            INSERT INTO finance_sync_alert (key, fingerprint, date, create_uid, create_date, write_uid, write_date)
            VALUES (%(key)s, %(fp)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC')
            ON CONFLICT (key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, date = EXCLUDED.date,
                                            write_date = EXCLUDED.write_date
             WHERE finance_sync_alert.fingerprint IS DISTINCT FROM EXCLUDED.fingerprint
            RETURNING id
        """, {"key": key, "fp": fingerprint, "uid": self.env.uid})
        return bool(self.env.cr.fetchone())

    @api.model
    def _forget(self, prefix, keep):
        """Drop stored alerts under ``prefix`` whose subject is no longer alarming (keys not in ``keep``)."""
        self.env.cr.execute("DELETE FROM finance_sync_alert WHERE key LIKE %s AND NOT (key = ANY(%s))",
                            (prefix + "%", list(keep)))

    # ------------------------------------------------------------------ cron
    @api.model
    def _cron_check_alerts(self):
        overdue = self._alert_overdue_exceptions()
        backends = self._alert_backends()
        return overdue + backends

    @api.model
    def _alert_overdue_exceptions(self):
        """Exceptions past the SLA: an activity for the assignee (or the configured responsible), and
        one note per backend listing them; once per failure."""
        params = self.env["ir.config_parameter"].sudo()
        sla = float(params.get_param("finance_sync.sla_hours", 24))
        responsible = self.env["res.users"].sudo().browse(int(params.get_param("finance_sync.alert_user_id") or 0)).exists()
        cutoff = fields.Datetime.now() - timedelta(hours=sla)
        jobs = self.env["finance.sync.job"].sudo().search(
            [("state", "=", S.FAILED), ("date_failed", "<", cutoff)], order="date_failed, id")
        keys = {job: "sla:job:%d" % job.id for job in jobs}
        self._forget("sla:job:", keys.values())
        fresh = jobs.filtered(lambda j: self._claim(keys[j], fields.Datetime.to_string(j.date_failed)))
        todo = self.env.ref("mail.mail_activity_data_todo")
        for job in fresh:
            user = job.user_id or responsible
            if user:
                job.activity_schedule(
                    activity_type_id=todo.id, user_id=user.id,
                    summary=self.env._("Exception past its SLA (%s h)", int(sla)),
                    note=escape(self.env._("%(code)s: %(message)s", code=job.error_code or "", message=job.error_message or "")))
        for backend in fresh.backend_id:
            mine = fresh.filtered(lambda j: j.backend_id == backend)
            items = Markup("").join(Markup("<li>%s</li>") % (j.summary or j.display_name or "#%d" % j.id) for j in mine)
            backend.message_post(
                body=Markup("<p>%s</p><ul>%s</ul>") % (
                    self.env._("%(count)s exception(s) passed the %(sla)s h SLA:", count=len(mine), sla=int(sla)), items),
                subtype_xmlid="mail.mt_note")
        if fresh:
            _logger.info("SLA alerts for %d exception(s)", len(fresh))
        return len(fresh)

    @api.model
    def _alert_backends(self):
        """Open breakers and consents ending within 7 days: a note on the backend notifying its managers."""
        backends = self.env["finance.backend"].sudo().search([("state", "!=", "draft")])
        soon = fields.Datetime.now() + timedelta(days=CONSENT_WARNING_DAYS)
        expiry = backends._consent_expiry()
        sent = 0
        breaker_keys, consent_keys = set(), set()
        for backend in backends:
            messages = []
            if backend.breaker_state == "open":
                key = "breaker:%d" % backend.id
                breaker_keys.add(key)
                if self._claim(key, fields.Datetime.to_string(backend.breaker_opened_at) or "open"):
                    messages.append(self.env._("The circuit breaker is open since %s: the platform failed repeatedly and "
                                      "its jobs wait until a probe succeeds.", backend.breaker_opened_at or "?"))
            ends = expiry.get(backend)
            if ends and ends <= soon:
                key = "consent:%d" % backend.id
                consent_keys.add(key)
                if self._claim(key, fields.Datetime.to_string(ends)):
                    messages.append(self.env._("The consent at the platform ends on %s: renew it there, then set the new "
                                      "date on the backend.", ends) if ends > fields.Datetime.now() else
                                    self.env._("The consent at the platform ended on %s: renew it there.", ends))
            if messages:
                managers = self._managers(backend)
                backend.message_post(body=Markup("<br/>").join(escape(m) for m in messages),
                                     partner_ids=managers.partner_id.ids, subtype_xmlid="mail.mt_note")
                sent += len(messages)
        self._forget("breaker:", breaker_keys)
        self._forget("consent:", consent_keys)
        return sent

    @api.model
    def _managers(self, backend):
        group = self.env.ref("finance_sync_core.group_finance_sync_manager")
        return group.sudo().users.filtered(lambda u: backend.company_id in u.company_ids and u.active)
