"""Who may do what with bank lines, reconciliation rules and the review actions, proven over
HTTP/JSON-RPC as real logged-in users (issue 11 items 10 and 5): an ordinary internal user, a
finance sync user (works the exception queue), a finance sync manager, an accountant, and a
manager of another company. The cells are MATRIX below: (role, model, operation, expected)."""
import base64

from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.finance_sync_core.tests.common import RpcCase

from .common import BE, camt053, camt_file

LINE, RULE, PROPOSAL, UPLOAD, PICK = ("account.bank.statement.line", "bank.reconcile.rule", "bank.reconcile.proposal",
                                      "bank.statement.upload", "bank.reconcile.pick")
ROLES = {
    "internal": ["base.group_user"],
    "sync_user": ["base.group_user", "finance_sync_core.group_finance_sync_user"],
    "sync_manager": ["base.group_user", "finance_sync_core.group_finance_sync_manager"],
    "accountant": ["base.group_user", "account.group_account_user"],
    "other_company_manager": ["base.group_user", "account.group_account_manager",
                              "finance_sync_core.group_finance_sync_manager"],
}
OPERATIONS = {
    LINE: ["read", "write_match_state", "write_import_id", "leave_open", "write_off", "undo", "rematch"],
    RULE: ["read", "write", "create", "unlink"],
    PROPOSAL: ["read", "accept"],
    UPLOAD: ["upload"],
    PICK: ["pick"],
}
ALLOWED = {
    # reading lines and the review actions: people who settle bank lines
    (LINE, "read"): {"sync_user", "sync_manager", "accountant"},
    (LINE, "leave_open"): {"sync_user", "sync_manager", "accountant"},
    (LINE, "write_off"): {"sync_user", "sync_manager", "accountant"},
    (LINE, "undo"): {"sync_user", "sync_manager", "accountant"},
    (LINE, "rematch"): {"sync_user", "sync_manager", "accountant"},
    # the matching state and the import keys: nobody over RPC
    (LINE, "write_match_state"): set(),
    (LINE, "write_import_id"): set(),
    (RULE, "read"): {"sync_user", "sync_manager", "accountant"},
    (RULE, "write"): set(),
    (RULE, "create"): set(),
    (RULE, "unlink"): set(),
    (PROPOSAL, "read"): {"sync_user", "sync_manager", "accountant"},
    (PROPOSAL, "accept"): {"sync_user", "sync_manager", "accountant"},
    (UPLOAD, "upload"): {"accountant"},
    # picking open items by hand (create the wizard, then Reconcile): people who settle bank lines
    (PICK, "pick"): {"sync_user", "sync_manager", "accountant"},
}
# every cell is about company A's data; the other company's manager may configure rules of
# his own company but must not see or touch company A's
MATRIX = [(role, model, operation, "allow" if role in ALLOWED[(model, operation)] else "deny")
          for model, operations in OPERATIONS.items() for operation in operations for role in ROLES]


@tagged("post_install", "-at_install")
class TestBankAccessMatrix(RpcCase, AccountTestInvoicingCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls.backend = cls.env["finance.backend"].create({
            "name": "Bank A", "kind": "bank", "base_url": "http://127.0.0.1:9", "auth_method": "oauth2",
            "client_id": "x", "client_secret": "y", "company_id": cls.company_a.id})
        cls.journal = cls.company_data["default_journal_bank"]
        cls.journal.bank_account_id = cls.env["res.partner.bank"].create({
            "acc_number": BE, "partner_id": cls.company_a.partner_id.id})
        cls.fees = cls.env["account.account"].create({"name": "Bank fees", "code": "626100", "account_type": "expense"})
        cls.journal.bank_writeoff_account_id = cls.fees
        cls.rule = cls.env["bank.reconcile.rule"].create({
            "name": "Fees A", "match_label": "fee", "account_id": cls.fees.id, "company_id": cls.company_a.id})
        cls.users = {}
        for role, groups in ROLES.items():
            companies = cls.company_b if role == "other_company_manager" else cls.company_a
            cls.users[role] = cls.make_role_user("bank_%s" % role, groups, companies)

    def setUp(self):
        super().setUp()
        self.line = self.env["account.bank.statement.line"].create({
            "journal_id": self.journal.id, "date": "2026-11-20", "amount": 125.0, "payment_ref": "INV 1",
            "feed_import_id": "ref:A1", "feed_match_state": "review"})
        invoice = self.init_invoice("out_invoice", amounts=[125.0], post=True)
        self.receivable = receivable = invoice.line_ids.filtered(lambda l: l.account_id.account_type == "asset_receivable")
        self.proposal = self.env["bank.reconcile.proposal"].create({
            "statement_line_id": self.line.id, "rank": 1, "score": 0.7, "rule": "amount",
            "move_line_ids": [(6, 0, receivable.ids)]})
        self.reconciled = self.env["account.bank.statement.line"].create({
            "journal_id": self.journal.id, "date": "2026-11-20", "amount": -3.0, "payment_ref": "fee",
            "feed_import_id": "ref:A2"})
        self.reconciled.sudo().action_bank_write_off()

    def call(self, role, model, operation):
        login = self.users[role].login
        line, rule = self.line.id, self.rule.id
        if model == LINE:
            target = self.reconciled.id if operation == "undo" else line
            method = {"read": ("read", [[line], ["amount", "feed_match_state"]]),
                      "write_match_state": ("write", [[line], {"feed_match_state": "auto"}]),
                      "write_import_id": ("write", [[line], {"feed_import_id": "ref:forged"}]),
                      "leave_open": ("action_bank_leave_open", [[target]]),
                      "write_off": ("action_bank_write_off", [[target]]),
                      "undo": ("action_bank_undo", [[target]]),
                      "rematch": ("action_bank_rematch", [[target]])}[operation]
        elif model == RULE:
            method = {"read": ("read", [[rule], ["name"]]),
                      "write": ("write", [[rule], {"match_label": "anything"}]),
                      "create": ("create", [{"name": "Mine", "match_label": "x", "account_id": self.fees.id,
                                             "company_id": self.company_a.id}]),
                      "unlink": ("unlink", [[rule]])}[operation]
        elif model == PROPOSAL:
            method = {"read": ("read", [[self.proposal.id], ["score"]]),
                      "accept": ("action_accept", [[self.proposal.id]])}[operation]
        elif model == PICK:
            outcome = self.rpc(login, PICK, "create", {"statement_line_id": line, "mode": "full",
                                                       "move_line_ids": [(6, 0, self.receivable.ids)]})
            if outcome[0] != "ok":
                return outcome
            outcome = self.rpc(login, PICK, "action_reconcile", [outcome[1]])
            return outcome, lambda: self.check_pick(outcome[0] == "ok")
        else:
            outcome = self.rpc(login, UPLOAD, "create", {
                "backend_id": self.backend.id, "filename": "s.xml",
                "file": base64.b64encode(camt_file(camt053(BE, "M1", 0, []))).decode()})
            if outcome[0] != "ok":
                return outcome
            return self.rpc(login, UPLOAD, "action_import", [outcome[1]])
        name, args = method
        return self.rpc(login, model, name, *args)

    def check_pick(self, done):
        """A pick that answered ok reconciled the line with the invoice; a refused one booked nothing."""
        self.assertEqual(self.line.is_reconciled, done)
        self.assertEqual(self.receivable.move_id.payment_state, "paid" if done else "not_paid")

    def test_matrix(self):
        self.assertGreaterEqual(len(MATRIX), 30)
        # each cell starts from the same data
        self.run_matrix(MATRIX, self.call, isolate=True)

    def test_admin_guide_table_matches_the_matrix(self):
        self.assert_role_table_documented("bank")

    def test_other_company_manager_configures_his_own_rules_only(self):
        login = self.users["other_company_manager"].login
        fees_b = self.env["account.account"].with_company(self.company_b).create({
            "name": "Fees B", "code": "626200", "account_type": "expense"})
        created = self.assert_allowed(self.rpc(login, RULE, "create", {"name": "B fees", "match_label": "fee",
                                                                       "account_id": fees_b.id}))
        names = self.assert_allowed(self.rpc(login, RULE, "search_read", [], ["name"]))
        self.assertEqual([r["name"] for r in names], ["B fees"])
        self.assertEqual(self.env["bank.reconcile.rule"].browse(created).company_id, self.company_b)
