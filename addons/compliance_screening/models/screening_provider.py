import hashlib
import json
import uuid

from odoo import api, models

from odoo.addons.finance_sync_core.exceptions import BusinessError

from ..provider_adapter import query

JOB_SCREEN = "screening.provider_screen"


def _entry_fingerprint(match):
    data = {"l": match["list"], "i": match["entry_id"], "n": match["name"], "p": sorted(match["programs"])}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


class ScreeningProvider(models.AbstractModel):
    """Screening through an external provider (contracts/screening-provider.md), as jobs.

    Partners are queued by the same triggers as local screening (creation, change of the
    screened data, before payment, rescreens, the provider's ``screening_list.updated``
    webhook); a job asks the provider about up to ``screening_batch_size`` partners and turns
    its hits into ``screening.case`` records on the provider's list, with the same
    thresholds logic, four eyes, clearing memory and payment block as local cases.
    """

    _name = "screening.provider"
    _description = "Screening provider (job handlers)"

    # ------------------------------------------------------------------ queueing
    @api.model
    def _enqueue(self, backend, partners, key_prefix=None):
        """Queue screening of ``partners`` with ``backend``.

        Without ``key_prefix`` (a change): only partners whose current data the provider has
        not screened, in one job keyed by those partners and their data, so repeated triggers
        queue it once. With ``key_prefix`` (a rescreen): every partner, in jobs of the
        backend's batch size keyed ``<key_prefix>:<n>``.
        """
        backend = backend.sudo()
        Job = self.env["finance.sync.job"]
        if key_prefix:
            size = backend.screening_batch_size or 50
            ids = partners.ids
            items = [{"payload": {"partner_ids": ids[i:i + size]}, "key": "%s:%d" % (key_prefix, i // size),
                      "summary": self.env._("Screen partners %(start)s-%(end)s with %(provider)s", start=i + 1,
                                            end=min(i + size, len(ids)), provider=backend.name)}
                     for i in range(0, len(ids), size)]
            return backend._enqueue_many(JOB_SCREEN, items) if items else Job
        partners = partners._screening_provider_stale()
        if not partners:
            return Job
        pairs = sorted((p.id, p._screening_fingerprint()) for p in partners)
        key = "partners:%s" % hashlib.sha256(json.dumps(pairs).encode()).hexdigest()[:32]
        names = ", ".join(partners[:3].mapped("display_name")) + (", ..." if len(partners) > 3 else "")
        item = {"payload": {"partner_ids": [pid for pid, _fp in pairs]},
                "summary": self.env._("Screen %(partners)s with %(provider)s", partners=names, provider=backend.name)}
        job = backend._enqueue(JOB_SCREEN, key=key, **item)
        if job.state in ("done", "cancelled"):
            # the same data was screened once and changed since (a rename and back): ask again
            job = backend._enqueue(JOB_SCREEN, key="%s:%s" % (key, uuid.uuid4().hex), **item)
        return job

    @api.model
    def _enqueue_full(self, backend, key_prefix):
        """Queue a rescreen of every partner of the companies that screen with ``backend``."""
        companies = self.env["res.company"].sudo().search([("screening_provider_id", "=", backend.id),
                                                           ("screening_mode", "!=", "local")])
        if not companies:
            return self.env["finance.sync.job"]
        company_ids = companies.ids
        self.env.flush_all()
        self.env.cr.execute("""
            SELECT id FROM res_partner
             WHERE active AND name IS NOT NULL AND (company_id = ANY(%s) OR (company_id IS NULL AND %s))
             ORDER BY id""", (company_ids, backend.company_id.id in company_ids))
        partners = self.env["res.partner"].browse([r[0] for r in self.env.cr.fetchall()])
        return self._enqueue(backend, partners, key_prefix=key_prefix)

    # ------------------------------------------------------------------ job handlers
    @api.model
    def _job_list_updated(self, job):
        """Handler of the provider's ``screening_list.updated`` webhook: screen everyone again."""
        data = (job.payload or {}).get("data") or {}
        backend = job.backend_id
        self._enqueue_full(backend, key_prefix="list:%s:%s" % (data.get("list"), data.get("version")))
        return None

    @api.model
    def _job_screen(self, job):
        """Handler of ``screening.provider_screen``: ask the provider, open/update/withdraw cases."""
        backend = job.backend_id
        partners = self.env["res.partner"].browse((job.payload or {}).get("partner_ids") or []).exists()
        partners = partners.filtered("name")
        queries, owner = [], {}
        for partner in partners:
            for i, name in enumerate(partner._screening_names()):
                ref = "res.partner,%d" % partner.id if not i else "res.partner,%d/%d" % (partner.id, i)
                queries.append(query(ref, name, partner._screening_type(), partner.country_id.code))
                owner[ref] = partner
        if not queries:
            return None
        matches, bad, versions = backend._screening_adapter().screen(queries, key_prefix="job:%s" % job.id)
        failed = self.env["res.partner"].browse([owner[ref].id for ref in bad])
        if failed and failed == partners:
            ref, reason = next(iter(sorted(bad.items())))
            raise BusinessError(
                self.env._("The screening provider's answer about %(partner)s breaks the contract: %(reason)s",
                           partner=owner[ref].display_name, reason=reason),
                code="provider_bad_result", params={"partners": failed.ids, "reasons": bad})
        for partner in failed:
            # a malformed result is a business error for that partner alone: ask about it in its own job
            backend._enqueue(JOB_SCREEN, payload={"partner_ids": [partner.id]}, key="alone:%s:%s" % (job.id, partner.id),
                            summary=self.env._("Screen %(partner)s with %(provider)s",
                                               partner=partner.display_name, provider=backend.name))
        lst = backend._screening_provider_list()
        good = {ref: found for ref, found in matches.items() if owner[ref] not in failed}
        entries = self._provider_entries(backend, lst, [m for found in good.values() for m in found])
        review, block = backend.screening_review_threshold, backend.screening_block_threshold
        for partner in partners - failed:
            hits = {}
            for ref, found in good.items():
                if owner[ref] != partner:
                    continue
                screened = next(q["name"] for q in queries if q["ref"] == ref)
                for match in found:
                    if match["score"] < review:
                        continue
                    entry = entries[(match["list"], match["entry_id"])]
                    if entry.id in hits and hits[entry.id]["score"] >= match["score"]:
                        continue
                    hits[entry.id] = {
                        "score": match["score"], "screened_name": screened, "matched_name": match["name"],
                        "explanation": {"source": "provider", "provider": backend.name, "query": screened,
                                        "list": match["list"], "entry_id": match["entry_id"], "name": match["name"],
                                        "score": match["score"], "programs": match["programs"],
                                        "list_version": versions.get(match["list"])}}
            fingerprint = partner._screening_fingerprint()
            partner._screening_apply(hits, fingerprint, review, block, source_list=lst)
            # sudo: screening bookkeeping on the partner
            partner.sudo().write({"screening_provider_fingerprint": fingerprint})
        if versions and versions != (backend.screening_list_versions or {}):
            backend.sudo().screening_list_versions = versions
        return None

    @api.model
    def _provider_entries(self, backend, lst, matches):
        """{(list, entry id): screening.list.entry} for the provider's matches, kept up to date."""
        Entry = self.env["screening.list.entry"].sudo().with_context(active_test=False)
        wanted = {}
        for match in matches:
            wanted["%s:%s" % (match["list"], match["entry_id"])] = match
        if not wanted:
            return {}
        existing = {e.uid: e for e in Entry.search([("list_id", "=", lst.id), ("uid", "in", list(wanted))])}
        to_create = []
        for key, match in wanted.items():
            vals = {"name": match["name"], "programs": "\n".join(match["programs"]) or False,
                    "fingerprint": _entry_fingerprint(match)}
            entry = existing.get(key)
            if entry is None:
                # inactive: the local engine never screens against a provider's hits
                to_create.append(dict(vals, list_id=lst.id, uid=key, active=False, entity_type="unknown",
                                      remarks=self.env._("Reported by %(provider)s (list %(list)s)",
                                                         provider=backend.name, list=match["list"])))
            elif entry.fingerprint != vals["fingerprint"]:
                entry.write(vals)
        for entry in Entry.create(to_create):
            existing[entry.uid] = entry
        return {(m["list"], m["entry_id"]): existing["%s:%s" % (m["list"], m["entry_id"])] for m in wanted.values()}
