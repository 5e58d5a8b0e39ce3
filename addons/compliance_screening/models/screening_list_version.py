from odoo import api, fields, models


class ScreeningListVersion(models.Model):
    """One loaded version of a list, with its delta to the version before (kept for audit)."""

    _name = "screening.list.version"
    _description = "Sanctions List Version"
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    list_id = fields.Many2one("screening.list", required=True, ondelete="cascade", index=True, readonly=True)
    state = fields.Selection([("current", "Current"), ("superseded", "Superseded")], default="current",
                             required=True, readonly=True)
    origin = fields.Selection([("upload", "Upload"), ("url", "URL")], readonly=True)
    sha256 = fields.Char(readonly=True)
    entry_count = fields.Integer(readonly=True)
    alias_count = fields.Integer(readonly=True)
    added_count = fields.Integer(readonly=True)
    changed_count = fields.Integer(readonly=True)
    removed_count = fields.Integer(readonly=True)
    delta = fields.Json(readonly=True, help="List ids added, changed and removed compared with the version before")
    delta_text = fields.Text(compute="_compute_delta_text")

    @api.depends("list_id.code", "create_date")
    def _compute_name(self):
        for rec in self:
            rec.name = "%s %s" % (rec.list_id.code or "", fields.Datetime.to_string(rec.create_date) if rec.create_date else "")

    @api.depends("delta")
    def _compute_delta_text(self):
        for rec in self:
            d = rec.delta or {}
            rec.delta_text = "\n".join(
                "%s (%d): %s" % (k, len(d.get(k, [])), ", ".join(d.get(k, [])[:200]))
                for k in ("added", "changed", "removed"))

    def _delta_entries(self):
        """Entries added or changed by this version (what a delta rescreen screens against)."""
        self.ensure_one()
        d = self.delta or {}
        uids = list(d.get("added", [])) + list(d.get("changed", []))
        if not uids:
            return self.env["screening.list.entry"]
        return self.env["screening.list.entry"].sudo().search([("list_id", "=", self.list_id.id), ("uid", "in", uids)])

    def _enqueue_delta_rescreen(self):
        self.ensure_one()
        entries = self._delta_entries()
        return self.env["res.partner"]._screening_enqueue_rescreen(entries.ids, key_prefix="version:%s" % self.id)
