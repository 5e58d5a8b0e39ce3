from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.finance_sync_core import protection
from odoo.addons.finance_sync_core.exceptions import BusinessError
from odoo.addons.finance_sync_core.guard import guarded

from ..engine.matcher import explain_text

OPEN_STATES = ("open", "to_approve")
LIVE_STATES = ("open", "to_approve", "confirmed")
OFFICER = "compliance_screening.group_screening_officer"
MANAGER = "finance_sync_core.group_finance_sync_manager"
# the only field a person writes directly (with the officer's write access): who works the case.
# Everything else (state, strength, the match, the decision and who took it) is written by the
# system or by a transition method, under protection.internal().
USER_WRITABLE = frozenset({"user_id"})


def _provider_text(expl):
    """What a screening provider said about a match (it gives no token-level explanation)."""
    text = "Reported by the screening provider %s: '%s' matches %s %s '%s', score %.2f." % (
        expl.get("provider"), expl.get("query"), expl.get("list"), expl.get("entry_id"), expl.get("name"),
        float(expl.get("score") or 0))
    if expl.get("programs"):
        text += "\nPrograms: %s." % ", ".join(expl["programs"])
    if expl.get("list_version"):
        text += "\nProvider's list version: %s." % expl["list_version"]
    return text


class ScreeningCase(models.Model):
    """A potential or strong match between a partner and a list entry, and its decision.

    open -> cleared (false positive, with a reason; a strong match needs a second person:
    open -> to_approve -> cleared) | confirmed (true match: the partner stays blocked) |
    withdrawn (the partner's data changed and no longer matches). Every decision goes to
    the audit log; the case also shows in the exception queue through a review job.

    Controls: state and every decision field change only in the transition methods below
    (``write()`` refuses them without ``protection.internal``, for every user, managers
    included); who acted is ``env.uid``, recorded as ``screening.case.approval`` rows unique
    per (case, user), never a writable field.
    """

    _name = "screening.case"
    _description = "Screening Case"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, copy=False, default="/")
    partner_id = fields.Many2one("res.partner", required=True, readonly=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="partner_id.company_id", store=True, index=True, string="Company",
                                 help="The partner's company (empty for a partner shared by every company)")
    entry_id = fields.Many2one("screening.list.entry", required=True, readonly=True, index=True, ondelete="cascade",
                               context={"active_test": False})
    list_id = fields.Many2one(related="entry_id.list_id", store=True, string="List")
    provider_backend_id = fields.Many2one(related="list_id.provider_backend_id", store=True,
                                          string="Screening provider")
    source_name = fields.Char(compute="_compute_source_name", string="Source",
                              help="Who reported the match: the local engine or the screening provider")
    entry_uid = fields.Char(related="entry_id.uid", string="List id")
    entry_name = fields.Char(related="entry_id.name", string="Listed name")
    strength = fields.Selection([("potential", "Potential match"), ("strong", "Strong match")],
                                required=True, readonly=True, tracking=True)
    score = fields.Float(readonly=True, digits=(3, 2))
    screened_name = fields.Char(readonly=True, help="The partner name that matched")
    matched_name = fields.Char(readonly=True, help="The list name it matched")
    explanation = fields.Json(readonly=True)
    explanation_text = fields.Text(compute="_compute_explanation_text")
    state = fields.Selection(
        [("open", "Open"), ("to_approve", "Clearing to approve"), ("cleared", "Cleared (false positive)"),
         ("confirmed", "Confirmed match"), ("withdrawn", "Withdrawn (no longer matches)")],
        default="open", required=True, readonly=True, index=True, tracking=True)
    blocking = fields.Boolean(compute="_compute_blocking", search="_search_blocking",
                              help="This case stops payments to the partner")
    clear_reason = fields.Text(readonly=True, tracking=True)
    approval_ids = fields.One2many("screening.case.approval", "case_id", string="Decisions", readonly=True)
    clear_requested_uid = fields.Many2one("res.users", string="Clearing proposed by", compute="_compute_proposal",
                                          store=True, help="Set by the transition: the officer who proposed")
    clear_requested_at = fields.Datetime(compute="_compute_proposal", store=True)
    decided_uid = fields.Many2one("res.users", string="Decided by", readonly=True, tracking=True)
    decided_at = fields.Datetime(readonly=True)
    clear_expires_at = fields.Datetime(string="Clearing expires", readonly=True)
    partner_fingerprint = fields.Char(readonly=True, help="Partner's screened data when the case was (last) matched")
    entry_fingerprint = fields.Char(readonly=True, help="Entry data when the case was (last) matched")
    job_id = fields.Many2one("finance.sync.job", string="Exception", readonly=True)
    user_id = fields.Many2one("res.users", string="Assigned to", tracking=True)

    def init(self):
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS screening_case_live_pair_uniq
                ON screening_case (partner_id, entry_id) WHERE state IN ('open', 'to_approve', 'confirmed')
        """)

    @api.depends("approval_ids.kind", "approval_ids.user_id")
    def _compute_proposal(self):
        for rec in self:
            proposal = rec.approval_ids.filtered(lambda a: a.kind == "propose")[:1]
            rec.clear_requested_uid = proposal.user_id
            rec.clear_requested_at = proposal.create_date

    @api.depends("explanation")
    def _compute_explanation_text(self):
        for rec in self:
            expl = rec.explanation
            if not expl:
                rec.explanation_text = False
            elif expl.get("source") == "provider":
                rec.explanation_text = _provider_text(expl)
            else:
                rec.explanation_text = explain_text(expl)

    @api.depends("provider_backend_id")
    def _compute_source_name(self):
        for rec in self:
            # sudo: the provider's name, for case readers who may not read backends (accountants)
            provider = rec.sudo().provider_backend_id
            rec.source_name = provider.name if provider else self.env._("Local engine")

    @api.model
    def _block_potential(self):
        return self.env["ir.config_parameter"].sudo().get_param("compliance_screening.potential_policy", "block") != "allow"

    @api.model
    def _blocking_domain(self):
        if self._block_potential():
            return [("state", "in", LIVE_STATES)]
        return ["|", ("state", "=", "confirmed"), "&", ("state", "in", OPEN_STATES), ("strength", "=", "strong")]

    def _compute_blocking(self):
        potential = self._block_potential()
        for rec in self:
            rec.blocking = rec.state == "confirmed" or (
                rec.state in OPEN_STATES and (rec.strength == "strong" or potential))

    def _search_blocking(self, operator, value):
        ids = self.search(self._blocking_domain()).ids
        positive = (operator == "=") == bool(value)
        return [("id", "in" if positive else "not in", ids)]

    @api.model_create_multi
    def create(self, vals_list):
        if not protection.is_internal(self):
            raise AccessError(self.env._("Screening cases are opened by the screening, not by hand."))
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].sudo().next_by_code("screening.case") or "/"
        cases = super().create(vals_list)
        cases._enqueue_review()
        return cases

    def write(self, vals):
        protection.check(self, vals, self._protected_fields(), self.env._(
            "A screening case's state, match and decision change only through its actions "
            "(clear, approve, reject, confirm, reopen): %s", ", ".join(sorted(set(vals) & self._protected_fields()))))
        return super().write(vals)

    @api.model
    def _protected_fields(self):
        """Every field of the case except who is assigned, the chatter's and the ORM's own."""
        mixins = set(self.env["mail.thread"]._fields) | set(self.env["mail.activity.mixin"]._fields)
        return frozenset(set(self._fields) - mixins - USER_WRITABLE - set(models.MAGIC_COLUMNS) - {"display_name"})

    def _describe(self):
        self.ensure_one()
        return self.env._("%(case)s: %(partner)s may be %(list)s %(uid)s '%(entry)s' (%(strength)s, score %(score).2f)",
                 case=self.name, partner=self.partner_id.display_name, list=self.list_id.code, uid=self.entry_id.uid,
                 entry=self.entry_id.name, strength=dict(self._fields["strength"].selection).get(self.strength),
                 score=self.score)

    # ------------------------------------------------------------------ exception queue
    def _enqueue_review(self):
        Backend = self.env["finance.backend"]
        for case in self:
            # the job runs on the case's company backend, so it follows the same record rules
            backend = Backend._screening_backend_for(case.company_id or self.env.company)
            job = backend._enqueue("screening.case_review", payload={"case_id": case.id}, key="case:%s" % case.id,
                                  summary=self.env._("Screening case %(case)s - %(partner)s", case=case.name,
                                            partner=case.partner_id.display_name))
            protection.internal(case.sudo()).job_id = job

    @api.model
    def _job_review(self, job):
        """Handler of ``screening.case_review``: stays in the exception queue while the case is undecided."""
        case = self.browse((job.payload or {}).get("case_id")).exists()
        if case and case.state in OPEN_STATES:
            raise BusinessError(case._describe(), code="screening_hit",
                                params={"case": case.name, "list": case.list_id.code, "entry": case.entry_id.uid,
                                        "score": case.score, "strength": case.strength})
        return case or None

    def _release_review(self):
        jobs = self.sudo().mapped("job_id").filtered(lambda j: j.state == "failed")
        jobs._requeue()

    # ------------------------------------------------------------------ decisions
    def _audit(self, action, description, **data):
        for case in self:
            self.env["finance.audit.log"]._append(
                "screening.case.%s" % action, case, "%s: %s" % (case.name, description),
                data=dict({"partner_id": case.partner_id.id, "entry": "%s:%s" % (case.list_id.code, case.entry_id.uid),
                           "score": case.score, "strength": case.strength, "state": case.state,
                           "acting_uid": self.env.uid}, **data))

    def _write_decision(self, vals):
        # sudo: the transition checked the caller's group and the four-eyes rule; the fields are protected
        protection.internal(self.sudo()).write(vals)

    def _record_approval(self, kind):
        """The acting user's decision row (unique per case and user: nobody counts twice)."""
        Approval = protection.internal(self.env["screening.case.approval"].sudo())
        for case in self:
            if case.approval_ids.filtered(lambda a: a.user_id.id == self.env.uid):
                raise UserError(self.env._("Four eyes: you already took part in the decision on %s; another officer must "
                                  "approve it.", case.name))
        return Approval.create([{"case_id": case.id, "user_id": self.env.uid, "kind": kind} for case in self])

    def _check_not_own_party(self):
        """Nobody decides about himself: an officer whose own contact is the screened partner
        (or its company) takes no part in the decision."""
        user_partner = self.env.user.partner_id
        for case in self:
            if user_partner and user_partner in (case.partner_id | case.partner_id.commercial_partner_id):
                raise UserError(self.env._("%s screens your own contact: another officer must decide it.", case.name))

    def _drop_approvals(self):
        protection.internal(self.sudo().approval_ids).unlink()

    @guarded(OFFICER)
    def action_clear(self, reason):
        """Clear as a false positive. A potential match clears at once; a strong match needs a
        second person (four eyes): the first proposes, another approves."""
        self.check_access("write")
        if not isinstance(reason, str) or not reason.strip():
            raise UserError(self.env._("Give the reason why this is not the listed party."))
        now = fields.Datetime.now()
        for case in self:
            if case.state != "open":
                raise UserError(self.env._("%s is not open.", case.name))
            case._check_not_own_party()
            if case.strength == "strong":
                case._record_approval("propose")
                case._write_decision({"state": "to_approve", "clear_reason": reason})
                case._audit("clear_proposed", "clearing proposed (needs a second person)", reason=reason,
                            proposed_by=self.env.uid)
                case.message_post(body=self.env._("Clearing proposed: %s. A second person must approve.", reason))
            else:
                case._record_approval("clear")
                case._finish_clear(reason, now)
        return True

    @guarded(OFFICER)
    def action_approve_clear(self):
        """The second officer's approval of a proposed clearing (never the proposer's own)."""
        self.check_access("write")
        now = fields.Datetime.now()
        for case in self:
            if case.state != "to_approve":
                raise UserError(self.env._("%s has no clearing to approve.", case.name))
            proposal = case.approval_ids.filtered(lambda a: a.kind == "propose")
            if not proposal:
                raise UserError(self.env._("%s has no recorded proposal to approve.", case.name))
            if self.env.uid in proposal.user_id.ids:
                raise UserError(self.env._("Four eyes: %s was proposed for clearing by you; another person must approve it.",
                                  case.name))
            case._check_not_own_party()
            case._record_approval("approve")
            case._finish_clear(case.clear_reason, now)
        return True

    def _finish_clear(self, reason, now):
        days = int(self.env["ir.config_parameter"].sudo().get_param("compliance_screening.clear_expiry_days", 0) or 0)
        self._write_decision({"state": "cleared", "clear_reason": reason, "decided_uid": self.env.uid, "decided_at": now,
                              "clear_expires_at": fields.Datetime.add(now, days=days) if days else False})
        self._audit("clear", "cleared as false positive", reason=reason,
                    proposed_by=self.clear_requested_uid.id or self.env.uid, approved_by=self.env.uid,
                    decided_by=sorted(self.approval_ids.user_id.ids))
        self.message_post(body=self.env._("Cleared as a false positive: %s", reason))
        self._release_review()

    @guarded(OFFICER)
    def action_reject_clear(self):
        """Send a proposed clearing back: the case is open again and the proposal no longer counts."""
        self.check_access("write")
        for case in self:
            if case.state != "to_approve":
                raise UserError(self.env._("%s has no clearing to reject.", case.name))
            case._write_decision({"state": "open", "clear_reason": False})
            case._audit("clear_rejected", "proposed clearing rejected",
                        proposed_by=case.clear_requested_uid.id)
            case._drop_approvals()
        return True

    @guarded(OFFICER)
    def action_confirm(self):
        """A true match: the partner stays blocked (one officer may always block)."""
        self.check_access("write")
        for case in self:
            if case.state not in OPEN_STATES:
                raise UserError(self.env._("%s is already decided.", case.name))
            case._drop_approvals()
            case._write_decision({"state": "confirmed", "clear_reason": False, "decided_uid": self.env.uid,
                                  "decided_at": fields.Datetime.now()})
            case._audit("confirm", "confirmed match: partner blocked")
            case.message_post(body=self.env._("Confirmed as a true match: payments to this partner are blocked."))
        self._release_review()
        return True

    @guarded(MANAGER)
    def action_reopen(self):
        """A finance sync administrator reopens a decided case (it blocks again until decided)."""
        self.check_access("write")
        for case in self:
            if case.state not in ("cleared", "confirmed"):
                raise UserError(self.env._("%s is not decided.", case.name))
            case._drop_approvals()
            case._write_decision({"state": "open", "decided_uid": False, "decided_at": False,
                                  "clear_reason": False, "clear_expires_at": False})
            case._audit("reopen", "case reopened")
        return True

    @guarded(OFFICER)
    def action_open_clear_wizard(self):
        self.check_access("write")
        return {"type": "ir.actions.act_window", "res_model": "screening.case.clear", "view_mode": "form",
                "target": "new", "name": self.env._("Clear as false positive"),
                "context": {"default_case_ids": self.ids}}

    @guarded(OFFICER)
    def action_assign_to_me(self):
        self.write({"user_id": self.env.uid})
        return True
