from odoo import fields, models


def _join(values):
    return "\n".join(values) if values else False


class ScreeningListEntry(models.Model):
    """One listed party of a list (the list's own id, all names, evidence)."""

    _name = "screening.list.entry"
    _description = "Sanctions List Entry"
    _order = "list_id, name"

    list_id = fields.Many2one("screening.list", required=True, ondelete="cascade", index=True, readonly=True)
    list_code = fields.Char(related="list_id.code", string="List")
    company_id = fields.Many2one(related="list_id.company_id", store=True, string="Company")
    uid = fields.Char(string="List id", required=True, readonly=True, index=True)
    name = fields.Char(required=True, readonly=True, index="trigram")
    aliases = fields.Text(readonly=True, help="One name per line (any script)")
    entity_type = fields.Selection(
        [("person", "Person"), ("organization", "Organization"), ("vessel", "Vessel"),
         ("aircraft", "Aircraft"), ("unknown", "Unknown")], readonly=True, default="unknown")
    countries = fields.Text(readonly=True)
    dates_of_birth = fields.Text(readonly=True)
    programs = fields.Text(readonly=True)
    remarks = fields.Text(readonly=True)
    fingerprint = fields.Char(readonly=True, help="sha256 of the screened data: changes when the entry changes")
    active = fields.Boolean(default=True, readonly=True, help="Cleared when a later version removed the entry")
    first_version_id = fields.Many2one("screening.list.version", readonly=True, ondelete="set null")
    version_id = fields.Many2one("screening.list.version", string="Last changed in", readonly=True, ondelete="set null")

    _sql_constraints = [("list_uid_unique", "UNIQUE(list_id, uid)", "An entry id appears once per list.")]

    def _vals_from(self, entry, version):
        return {"uid": entry.uid, "name": entry.name, "aliases": _join(entry.aliases),
                "entity_type": entry.entity_type, "countries": _join(entry.countries),
                "dates_of_birth": _join(entry.dates_of_birth), "programs": _join(entry.programs),
                "remarks": entry.remarks or False, "fingerprint": entry.fingerprint(), "version_id": version.id}

    def _compute_display_name(self):
        for rec in self:
            rec.display_name = "%s %s %s" % (rec.list_id.code or "", rec.uid or "", rec.name or "")
