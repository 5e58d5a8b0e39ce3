import hashlib
import logging
import tempfile
import uuid
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.finance_sync_core import protection
from odoo.addons.finance_sync_core.exceptions import BusinessError
from odoo.addons.finance_sync_core.guard import guarded

from ..engine import parsers
from ..engine.records import ListParseError, delta

_logger = logging.getLogger(__name__)

URL_ROLES = (("url", "main"), ("url_alt", "alt"), ("url_add", "add"))


class ScreeningList(models.Model):
    """A sanctions list source: its format, where it comes from, its versions and entries."""

    _name = "screening.list"
    _description = "Sanctions List"
    _inherit = ["mail.thread"]
    _order = "sequence, name"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(required=True, help="Short code shown on cases, e.g. OFAC-SDN, EU-CONS, UN-CONS, UK-OFSI")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    kind = fields.Selection(
        [(k, v[0]) for k, v in parsers.FORMATS.items()] + [("provider", "Screening provider hits")],
        string="Format", required=True, tracking=True)
    source = fields.Selection([("upload", "Uploaded file"), ("url", "URL on a schedule"),
                               ("provider", "Screening provider")],
                              default="upload", required=True, tracking=True)
    provider_backend_id = fields.Many2one(
        "finance.backend", string="Provider", readonly=True, index=True, ondelete="cascade",
        help="The screening provider whose hits this list records (its entries are never screened locally)")
    url = fields.Char(string="URL", tracking=True, help="The list file (OFAC CSV: sdn.csv)")
    url_alt = fields.Char(string="Aliases URL (alt.csv)", tracking=True)
    url_add = fields.Char(string="Addresses URL (add.csv)", tracking=True)
    backend_id = fields.Many2one(
        "finance.backend", string="Download through", tracking=True,
        help="Backend whose HTTP client (timeouts, size limit, auth) downloads the files; "
             "the compliance screening backend when empty")
    interval_hours = fields.Integer(string="Load every (hours)", default=24, required=True)
    next_load_at = fields.Datetime(string="Next load", copy=False)
    max_size_mb = fields.Integer(string="Largest file (MiB)", default=200, required=True)
    company_id = fields.Many2one(
        related="provider_backend_id.company_id", store=True, index=True, string="Company",
        help="A screening provider's hits belong to the provider backend's company; official lists are shared")
    current_version_id = fields.Many2one("screening.list.version", readonly=True, copy=False)
    version_ids = fields.One2many("screening.list.version", "list_id", readonly=True)
    entry_ids = fields.One2many("screening.list.entry", "list_id", readonly=True)
    entry_count = fields.Integer(related="current_version_id.entry_count")
    alias_count = fields.Integer(related="current_version_id.alias_count")
    loaded_at = fields.Datetime(related="current_version_id.create_date", string="Loaded on")

    _sql_constraints = [("code_unique", "UNIQUE(code)", "A list with this code already exists.")]

    @api.constrains("kind", "source", "provider_backend_id")
    def _check_provider_list(self):
        for rec in self:
            if (rec.kind == "provider") != (rec.source == "provider") or \
                    (rec.source == "provider") != bool(rec.provider_backend_id):
                raise ValidationError(self.env._("Only a screening provider backend keeps a list of provider hits."))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_matched(self):
        # deleting a list would delete its entries and, with them, every case on them: the
        # decisions and the payment blocks. A list that ever matched is archived instead.
        if self.env["screening.case"].sudo().with_context(active_test=False).search_count(
                [("entry_id.list_id", "in", self.ids)], limit=1):
            raise UserError(self.env._("A list whose entries matched partners keeps its screening cases: archive it instead."))

    # ------------------------------------------------------------------ loading
    def _parse(self, files):
        """{uid: Entry} parsed from ``files`` (role -> bytes/path/file); ListParseError on a bad file."""
        self.ensure_one()
        return parsers.parse(self.kind, files, max_bytes=self.max_size_mb * 1024 * 1024)

    def _load_files(self, files, origin="upload"):
        """Parse, then store a new version with its delta. Nothing is written unless the whole
        file parsed, so a bad file leaves the current version intact. Returns the version
        (the current one when the content did not change)."""
        self.ensure_one()
        if self.source == "provider":
            raise UserError(self.env._("%s records a screening provider's hits: it has no files to load.", self.name))
        digest = hashlib.sha256()
        for role in sorted(files):
            data = files[role]
            if isinstance(data, (bytes, bytearray)):
                digest.update(role.encode() + b"\0" + bytes(data))
            elif hasattr(data, "seek"):
                data.seek(0)
                for chunk in iter(lambda data=data: data.read(1 << 20), b""):
                    digest.update(chunk)
                data.seek(0)
        sha = digest.hexdigest()
        if self.current_version_id and self.current_version_id.sha256 == sha:
            return self.current_version_id
        entries = self._parse(files)
        return self._store_version(entries, sha, origin)

    def _store_version(self, entries, sha, origin):
        Entry = self.env["screening.list.entry"].sudo()
        self.env.flush_all()
        self.env.cr.execute("SELECT uid, id, fingerprint, active FROM screening_list_entry WHERE list_id = %s",
                            (self.id,))
        existing = {uid: (eid, fp, active) for uid, eid, fp, active in self.env.cr.fetchall()}
        previous = {uid: fp for uid, (_eid, fp, active) in existing.items() if active}
        current = {uid: entry.fingerprint() for uid, entry in entries.items()}
        added, changed, removed = delta(previous, current)
        version = self.env["screening.list.version"].sudo().create({
            "list_id": self.id, "sha256": sha, "origin": origin,
            "entry_count": len(entries), "alias_count": sum(len(e.aliases) for e in entries.values()),
            "added_count": len(added), "changed_count": len(changed), "removed_count": len(removed),
            "delta": {"added": added, "changed": changed, "removed": removed},
        })
        create_vals = []
        for uid in added:
            vals = Entry._vals_from(entries[uid], version)
            if uid in existing:  # came back after a removal
                Entry.browse(existing[uid][0]).write(dict(vals, active=True))
            else:
                create_vals.append(dict(vals, list_id=self.id, first_version_id=version.id))
        for start in range(0, len(create_vals), 5000):
            Entry.create(create_vals[start:start + 5000])
        for uid in changed:
            Entry.browse(existing[uid][0]).write(Entry._vals_from(entries[uid], version))
        if removed:
            Entry.browse([existing[uid][0] for uid in removed]).write({"active": False, "version_id": version.id})
        if removed:
            gone = protection.internal(self.env["screening.case"].sudo()).search([
                ("entry_id", "in", [existing[uid][0] for uid in removed]), ("state", "=", "open")])
            for case in gone:
                case.write({"state": "withdrawn", "decided_at": fields.Datetime.now()})
                case._audit("withdraw", "entry removed from the list by version %s" % version.id)
            gone._release_review()
        if self.current_version_id:
            self.current_version_id.sudo().state = "superseded"
        self.sudo().current_version_id = version
        self.env["finance.audit.log"]._append(
            "screening.list.version", self,
            "List %s: version %s loaded (%d entries; +%d ~%d -%d)" % (
                self.code, version.name, len(entries), len(added), len(changed), len(removed)),
            data={"sha256": sha, "origin": origin, "added": len(added), "changed": len(changed),
                  "removed": len(removed)})
        _logger.info("Screening list %s: version %s, %d entries, +%d ~%d -%d", self.code, version.id,
                     len(entries), len(added), len(changed), len(removed))
        if added or changed:
            version._enqueue_delta_rescreen()
        return version

    # ------------------------------------------------------------------ URL loading (a core job)
    @api.model
    def _screening_backend(self):
        return self.env["finance.backend"]._screening_backend_for(self.env.company)

    def _load_backend(self):
        return (self.backend_id or self._screening_backend()).sudo()

    @guarded("finance_sync_core.group_finance_sync_manager")
    def action_load_now(self):
        jobs = self.env["finance.sync.job"]
        for rec in self:
            if rec.source != "url" or not rec.url:
                raise UserError(self.env._("List %s has no URL: upload a file instead.", rec.name))
            jobs |= rec._enqueue_load(key_suffix="manual:%s" % uuid.uuid4().hex)  # every press loads
        return jobs.backend_id._notify_queued(jobs, message=self.env._(
            "Queued the download of %(count)s list(s): %(names)s. A new version is screened against every "
            "partner (delta rescreen) once it is loaded.", count=len(jobs), names=", ".join(self.mapped("name"))))

    def _enqueue_load(self, key_suffix):
        self.ensure_one()
        return self._load_backend()._enqueue(
            "screening.list_load", payload={"list_id": self.id}, key="screening-load:%s:%s" % (self.id, key_suffix),
            summary=self.env._("Load sanctions list %s", self.name))

    @api.model
    def _cron_schedule_loads(self):
        """Enqueue one load job per URL list that is due; the job downloads and parses."""
        now = fields.Datetime.now()
        due = self.search([("source", "=", "url"), ("url", "!=", False),
                           "|", ("next_load_at", "=", False), ("next_load_at", "<=", now)])
        for done, rec in enumerate(due, start=1):
            rec._enqueue_load(key_suffix="scheduled:%s" % (rec.next_load_at or now).isoformat())
            rec.next_load_at = now + timedelta(hours=max(1, rec.interval_hours))
            # progress on the scheduled action ("n of m" lists queued), as the connectors' crons report it
            self.env["ir.cron"]._notify_progress(done=done, remaining=len(due) - done)
        return len(due)

    @api.model
    def _job_load(self, job):
        """Handler of ``screening.list_load``: download the list files and load a new version."""
        rec = self.browse((job.payload or {}).get("list_id")).exists()
        if not rec:
            raise BusinessError("The sanctions list of this job no longer exists.", code="list_missing")
        client = rec._load_backend()._http_client()
        files = {}
        try:
            for field_name, role in URL_ROLES:
                url = rec[field_name]
                if not url:
                    continue
                role = "sdn" if (rec.kind == "ofac_csv" and role == "main") else role
                tmp = tempfile.TemporaryFile()
                client.request("GET", url, expect="bytes", stream_to=tmp)
                tmp.seek(0)
                files[role] = tmp
            try:
                version = rec._load_files(files, origin="url")
            except ListParseError as exc:
                raise BusinessError(
                    "List %s: the downloaded file was refused (%s). The current version stays in use."
                    % (rec.code, exc.message), code="screening_list_malformed",
                    params={"list": rec.code, "reason": exc.message}) from exc
        finally:
            for tmp in files.values():
                tmp.close()
        return version

    @guarded("finance_sync_core.group_finance_sync_manager")
    def action_full_rescreen(self):
        """Screen every partner against every entry (on demand), in jobs of RESCREEN_CHUNK partners."""
        jobs = self.env["res.partner"]._screening_enqueue_rescreen(None, key_prefix="full:%s" % uuid.uuid4().hex)
        partners = sum(len((job.payload or {}).get("partner_ids") or []) for job in jobs.sudo())
        return self._screening_backend()._notify_queued(jobs, message=self.env._(
            "Queued %(jobs)s rescreen job(s) for %(partners)s partner(s), against every entry of every list.",
            jobs=len(jobs), partners=partners))

    @guarded("finance_sync_core.group_finance_sync_manager")
    def action_open_upload(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": "screening.list.upload", "view_mode": "form",
                "target": "new", "name": self.env._("Upload list file"), "context": {"default_list_id": self.id}}

