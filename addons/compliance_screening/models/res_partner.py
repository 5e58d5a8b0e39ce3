import hashlib
import json

from odoo import api, fields, models

from odoo.addons.finance_sync_core import protection

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
    screening_provider_fingerprint = fields.Char(
        readonly=True, copy=False, groups="base.group_system",
        help="The partner's screened data when the screening provider last screened it")

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
    def _screening_company(self):
        """The company whose screening settings apply: the partner's, else the current one."""
        self.ensure_one()
        return self.company_id or self.env.company

    def _screening_split(self):
        """(partners screened by the local engine, {provider backend: partners it screens})."""
        local, providers, companies = self.browse(), {}, {}
        for partner in self:
            company = partner._screening_company()
            if company.id not in companies:
                companies[company.id] = (company._screening_uses_local(), company._screening_provider())
            uses_local, provider = companies[company.id]
            if uses_local:
                local |= partner
            if provider:
                providers[provider] = providers.get(provider, self.browse()) | partner
        return local, providers

    def _screening_provider_stale(self):
        """The partners whose current screened data the provider has not screened yet."""
        return self.filtered(lambda p: p.sudo().screening_provider_fingerprint != p._screening_fingerprint())

    def _screening_run(self, entry_ids=None, index=None, provider_key=None):
        """Screen these partners and open, update or withdraw cases, as each company's
        screening mode says: inline against the local lists (or only ``entry_ids``: a delta
        rescreen, local only), and through jobs with the screening provider (``provider_key``:
        a rescreen that asks again even for unchanged partners). Returns the cases opened
        inline; the provider's cases come when its jobs run."""
        partners = self.filtered(lambda p: p.name)
        if not partners or self.env.context.get("screening_disable"):
            return self.env["screening.case"]
        local, providers = partners._screening_split()
        if entry_ids is None:
            for backend, group in providers.items():
                self.env["screening.provider"]._enqueue(backend, group, key_prefix=provider_key)
        return local._screening_run_local(entry_ids=entry_ids, index=index)

    def _screening_run_local(self, entry_ids=None, index=None):
        """Screen against the local lists' current versions (the matching engine)."""
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
        cases = partners._screening_cases()
        for partner in partners:
            # every entry at or above the review threshold gets its case: a cap would leave the
            # eleventh 'MOHAMMAD ... AKHUND' of a list unreviewed, and which one depended on ties
            best = {}
            for name in partner._screening_names():
                for match in index.screen(name, entity_type=partner._screening_type(),
                                          countries=partner._screening_countries(), threshold=review, limit=None):
                    if match.key not in best or match.score > best[match.key].score:
                        best[match.key] = match
            hits = {key: {"score": match.score, "explanation": match.explanation, "matched_name": match.matched_name,
                          "screened_name": (match.explanation or {}).get("query")}
                    for key, match in best.items()}
            fingerprint = partner._screening_fingerprint()
            created |= partner._screening_apply(hits, fingerprint, review, block,
                                                scope=None if entry_ids is None else set(entry_ids),
                                                cases=cases[partner.id])
            # sudo: screening bookkeeping on the partner, whoever triggered it
            super(ResPartner, partner.sudo()).write({"screening_date": now, "screening_fingerprint": fingerprint})
        return created

    def _screening_cases(self):
        """{partner id: its screening cases, newest first} for these partners, in one query (a
        batch of new partners screened inline would otherwise search once per partner)."""
        # sudo: the screening's own bookkeeping, whoever changed the partners
        Case = protection.internal(self.env["screening.case"].sudo())
        out = {partner.id: Case for partner in self}
        for case in Case.search([("partner_id", "in", self.ids)], order="id desc"):
            out[case.partner_id.id] |= case
        return out

    def _screening_apply(self, hits, fingerprint, review, block, scope=None, source_list=None, cases=None):
        """Open, update or withdraw this partner's cases from ``hits`` ({entry id: {score,
        explanation, matched_name, screened_name}}) of one source: the local engine, or the
        provider whose hits ``source_list`` records. Open cases of the other source are left
        alone; a cleared pair stays cleared while the partner's and the entry's data match.
        ``cases``: the partner's cases as :meth:`_screening_cases` gives them (else searched)."""
        self.ensure_one()
        # sudo: cases are opened by the system for whoever changed the partner (internal: the
        # screening writes the match fields no person may write)
        Case = protection.internal(self.env["screening.case"].sudo())
        if not hits and cases is not None and not cases:
            return Case  # nothing found and nothing to withdraw: the usual case of a new partner
        entries = self.env["screening.list.entry"].sudo().browse(list(hits))
        cases = Case.search([("partner_id", "=", self.id)], order="id desc") if cases is None else cases
        live = {c.entry_id.id: c for c in cases if c.state in LIVE_STATES}
        now = fields.Datetime.now()
        new_vals = []
        for entry in entries:
            hit = hits[entry.id]
            strength = classify(hit["score"], review, block)
            vals = {"score": hit["score"], "strength": strength, "explanation": hit["explanation"],
                    "screened_name": hit["screened_name"], "matched_name": hit["matched_name"],
                    "partner_fingerprint": fingerprint, "entry_fingerprint": entry.fingerprint}
            case = live.get(entry.id)
            if case:
                if case.state in OPEN_STATES and (case.score != hit["score"] or case.strength != strength
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
        gone = [c for c in cases if c.state == "open" and c.entry_id.id not in hits
                and (scope is None or c.entry_id.id in scope)
                and (c.list_id == source_list if source_list else c.list_id.source != "provider")]
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
                  "summary": self.env._("Rescreen partners %(start)s-%(end)s (%(kind)s)", start=i + 1,
                               end=min(i + RESCREEN_CHUNK, len(ids)),
                               kind=self.env._("delta") if entry_ids is not None else self.env._("full"))}
                 for i in range(0, len(ids), RESCREEN_CHUNK)]
        if not items:
            return self.env["finance.sync.job"]
        return backend._enqueue_many("screening.rescreen", items)

    @api.model
    def _job_rescreen(self, job):
        payload = job.payload or {}
        partners = self.browse(payload.get("partner_ids") or []).exists()
        entry_ids = payload.get("entry_ids")
        # a full rescreen asks the screening provider again too, even about unchanged partners
        partners._screening_run(entry_ids=entry_ids,
                                provider_key=None if entry_ids is not None else "rescreen:%s" % job.id)
        return None

    # ------------------------------------------------------------------ payment block hook
    def _finance_payment_block_reasons(self):
        reasons = super()._finance_payment_block_reasons()
        partners = (self | self.commercial_partner_id).exists()
        if not partners:
            return reasons
        # "before they are paid": screen again whoever changed since the last screening
        local, providers = partners.filtered("name")._screening_split()
        stale = local.filtered(lambda p: p.sudo().screening_fingerprint != p._screening_fingerprint())
        if stale:
            stale._screening_run_local()
        # the provider answers through a job: until it has screened the partner's current data,
        # the partner is not paid (fail closed, also while the provider is down)
        pending = {}
        for backend, group in providers.items():
            waiting = group._screening_provider_stale()
            if waiting:
                self.env["screening.provider"]._enqueue(backend, waiting)
                for partner in waiting:
                    pending[partner.id] = self.env._(
                        "sanctions screening of %(partner)s by %(provider)s not done yet for its current data "
                        "(see the provider's jobs and exceptions)", partner=partner.display_name, provider=backend.name)
        Case = self.env["screening.case"].sudo()
        cases = Case.search([("partner_id", "in", partners.ids)] + Case._blocking_domain())
        for partner in self:
            mine = cases.filtered(lambda c, p=partner: c.partner_id in (p | p.commercial_partner_id))
            texts = [pending[p.id] for p in (partner | partner.commercial_partner_id) if p.id in pending]
            if mine:
                texts.append(self.env._("sanctions screening %s", "; ".join(c._describe() for c in mine)))
            if texts:
                text = "; ".join(texts)
                reasons[partner.id] = "%s; %s" % (reasons[partner.id], text) if reasons.get(partner.id) else text
        return reasons
