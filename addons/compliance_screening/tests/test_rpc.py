"""Blocks are enforced on the server: a JSON-RPC call to post a payment is refused too."""
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestRpcBlock(HttpCase):
    def test_rpc_post_refused(self):
        lst = self.env["screening.list"].create({"name": "RPC list", "code": "RPC", "kind": "custom_csv"})
        lst._load_files({"main": b"name,type,reference\nDarkside Hosting Solutions,organization,D-1\n"})
        partner = self.env["res.partner"].create({"name": "Darkside Hosting Solutions", "is_company": True})
        case = partner.screening_case_ids
        self.assertEqual(case.strength, "strong")
        journal = self.env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", self.env.company.id)],
                                                     limit=1)
        if not journal:
            journal = self.env["account.journal"].create({"name": "Bank", "code": "TBNK", "type": "bank"})
        payment = self.env["account.payment"].create({
            "payment_type": "outbound", "partner_type": "supplier", "partner_id": partner.id, "amount": 10.0,
            "journal_id": journal.id})
        self.authenticate("admin", "admin")
        response = self.url_open("/web/dataset/call_kw/account.payment/action_post", data=__import__("json").dumps({
            "jsonrpc": "2.0", "method": "call", "id": 1,
            "params": {"model": "account.payment", "method": "action_post", "args": [payment.ids], "kwargs": {}},
        }), headers={"Content-Type": "application/json"})
        body = response.json()
        self.assertIn("error", body)
        self.assertIn(case.name, body["error"]["data"]["message"])
        payment.invalidate_recordset()
        self.assertEqual(payment.state, "draft")
