import hashlib
import json

from odoo import _, api, fields, models

from .. import index_cache
from ..engine.matcher import DEFAULT_BLOCK, DEFAULT_REVIEW, classify
from .screening_case import LIVE_STATES, OPEN_STATES

SCREENED_FIELDS = {"name", "country_id", "is_company", "company_type"}
RESCREEN_CHUNK = 2000


class ResPartner(models.Model):
    _inherit = "res.partner"

    screening_case_ids = fields.One2many("screening.case", "partner_id", string="Screening cases")
    screening_state = fields.Selection(
        [("not_screened", "Not screened"), ("clear", "Clear"), ("potential", "Potential match"),
         ("strong", "Strong match"), ("confirmed", "Confirmed match")],
        compute="_compute_screening_state", string="Sanctions screening")
    screening_date = fields.Datetime(string="Last screened", readonly=True, copy=False)
    screening_fingerprint = fields.Char(readonly=True, copy=False, groups="base.group_system")

    @api.depends("screening_case_ids.state", "screening_case_ids.strength", "screening_date")
    def _compute_screening_state(self):
        for partner in self:
            cases = partner.screening_case_ids
            if cases.filtered(lambda c: c.state == "confirmed"):
                partner.screening_state = "confirmed"
            elif cases.filtered(lambda c: c.state in OPEN_STATES and c.strength == "strong"):
                partner.screening_state = "strong"
            elif cases.filtered(lambda c: c.state in OPEN_STATES):
                partner.screening_state = "potential"
            else:
                partner.screening_state = "clear" if partner.screening_date else "not_screened"

    # ------------------------------------------------------------------ what is screened
    def _screening_names(self):
        self.ensure_one()
        names = [self.name] if self.name else []
        for bank in self.sudo().bank_ids:
            if bank.acc_holder_name and bank.acc_holder_name not in names:
                names.append(bank.acc_holder_name)
        return names

    def _screening_type(self):
        return "organization" if self.is_company else "person"

    def _screening_countries(self):
        return [c for c in (self.country_id.name, self.country_id.code) if c]

    def _screening_fingerprint(self):
        self.ensure_one()
        data = {"n": sorted(self._screening_names()), "t": self._screening_type(), "c": self.country_id.code or ""}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    @api.model
    def _screening_thresholds(self):
        params = self.env["ir.config_parameter"].sudo()
        return (float(params.get_param("compliance_screening.review_threshold", DEFAULT_REVIEW)),
                float(params.get_param("compliance_screening.block_threshold", DEFAULT_BLOCK)))

    # ------------------------------------------------------------------ triggers
    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        partners._screening_run()
        return partners

    def write(self, vals):
        res = super().write(vals)
        if SCREENED_FIELDS.intersection(vals):
            self._screening_run()
        return res

    # ------------------------------------------------------------------ screening
    def _screening_run(self, entry_ids=None, index=None):
        """Screen these partners against the current lists (or only ``entry_ids``: a delta
        rescreen) and open, update or withdraw cases. Returns the cases opened."""
        partners = self.filtered(lambda p: p.name)
        if not partners or self.env.context.get("screening_disable"):
            return self.env["screening.case"]
        if index is None:
            if entry_ids is not None:
                index = index_cache.build(self.env.cr, entry_ids)
            else:
                if not any(version for _list, version in index_cache.signature(self.env.cr)):
                    return self.env["screening.case"]
                index = index_cache.current(self.env)
        review, block = self._screening_thresholds()
        created = self.env["screening.case"]
        now = fields.Datetime.now()
        for partner in partners:
            best = {}
            for name in partner._screening_names():
                for match in index.screen(name, entity_type=partner._screening_type(),
                                          countries=partner._screening_countries(), threshold=review, limit=10):
                    if match.key not in best or match.score > best[match.key].score:
                        best[match.key] = match
            fingerprint = partner._screening_fingerprint()
            created |= partner._screening_apply(best, fingerprint, review, block,
                                                scope=None if entry_ids is None else set(entry_ids))
            # sudo: screening bookkeeping on the partner, whoever triggered it
            super(ResPartner, partner.sudo()).write({"screening_date": now, "screening_fingerprint": fingerprint})
        return created

    def _screening_apply(self, best, fingerprint, review, block, scope=None):
        self.ensure_one()
        # sudo: cases are opened by the system for whoever changed the partner
        Case = self.env["screening.case"].sudo()
        entries = self.env["screening.list.entry"].sudo().browse(list(best))
        cases = Case.search([("partner_id", "=", self.id)], order="id desc")
        live = {c.entry_id.id: c for c in cases if c.state in LIVE_STATES}
        now = fields.Datetime.now()
        new_vals = []
        for entry in entries:
            match = best[entry.id]
            strength = classify(match.score, review, block)
            vals = {"score": match.score, "strength": strength, "explanation": match.explanation,
                    "screened_name": match.explanation.get("query"), "matched_name": match.matched_name,
                    "partner_fingerprint": fingerprint, "entry_fingerprint": entry.fingerprint}
            case = live.get(entry.id)
            if case:
                if case.state in OPEN_STATES and (case.score != match.score or case.strength != strength
                                                  or case.partner_fingerprint != fingerprint):
                    case.write(vals)
                continue
            cleared = next((c for c in cases if c.entry_id == entry and c.state == "cleared"), None)
            if cleared and cleared.partner_fingerprint == fingerprint and cleared.entry_fingerprint == entry.fingerprint \
                    and (not cleared.clear_expires_at or cleared.clear_expires_at > now):
                continue  # remembered false positive: same partner data, same entry
            new_vals.append(dict(vals, partner_id=self.id, entry_id=entry.id))
        created = Case.create(new_vals) if new_vals else Case
        for case in created:
            case._audit("open", "case opened: %s" % case.explanation_text)
        gone = [c for c in cases if c.state == "open" and c.entry_id.id not in best
                and (scope is None or c.entry_id.id in scope)]
        for case in gone:
            case.write({"state": "withdrawn", "decided_at": now})
            case._audit("withdraw", "no longer matches the partner's data")
            case._release_review()
        return created

    @api.model
    def _screening_enqueue_rescreen(self, entry_ids, key_prefix):
        """Queue rescreen jobs over every partner, RESCREEN_CHUNK partners per job; ``entry_ids``
        limits them to those entries (delta rescreen), None screens against everything."""
        self.env.flush_all()
        self.env.cr.execute("SELECT id FROM res_partner WHERE active AND name IS NOT NULL ORDER BY id")
        ids = [r[0] for r in self.env.cr.fetchall()]
        backend = self.env["screening.list"]._screening_backend()
        items = [{"payload": {"partner_ids": ids[i:i + RESCREEN_CHUNK], "entry_ids": entry_ids},
                  "key": "rescreen:%s:%d" % (key_prefix, i // RESCREEN_CHUNK),
                  "summary": _("Rescreen partners %(start)s-%(end)s (%(kind)s)", start=i + 1,
                               end=min(i + RESCREEN_CHUNK, len(ids)),
                               kind=_("delta") if entry_ids is not None else _("full"))}
                 for i in range(0, len(ids), RESCREEN_CHUNK)]
        if not items:
            return self.env["finance.sync.job"]
        return backend.enqueue_many("screening.rescreen", items)

    @api.model
    def _job_rescreen(self, job):
        payload = job.payload or {}
        partners = self.browse(payload.get("partner_ids") or []).exists()
        entry_ids = payload.get("entry_ids")
        partners._screening_run(entry_ids=entry_ids)
        return None

    # ------------------------------------------------------------------ payment block hook
    def _finance_payment_block_reasons(self):
        reasons = super()._finance_payment_block_reasons()
        partners = (self | self.commercial_partner_id).exists()
        if not partners:
            return reasons
        # "before they are paid": screen again whoever changed since the last screening
        stale = partners.filtered(lambda p: p.sudo().screening_fingerprint != p._screening_fingerprint())
        if stale:
            stale._screening_run()
        Case = self.env["screening.case"].sudo()
        cases = Case.search([("partner_id", "in", partners.ids)] + Case._blocking_domain())
        for partner in self:
            mine = cases.filtered(lambda c, p=partner: c.partner_id in (p | p.commercial_partner_id))
            if mine:
                text = _("sanctions screening %s", "; ".join(c._describe() for c in mine))
                reasons[partner.id] = "%s; %s" % (reasons[partner.id], text) if reasons.get(partner.id) else text
        return reasons
