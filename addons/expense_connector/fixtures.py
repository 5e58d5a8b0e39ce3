"""The setup a real installation has before its first sync, against the expense platform
simulator: used by the tests (``tests/common.py``) and by ``scripts/bench_expense.py`` on a
committed database. Not imported by the addon itself."""
from odoo import Command

from odoo.addons.finance_sync_sandbox.sandbox_server import config, data as sandbox_data

TAX_RATES = {"VAT21": 21.0, "VAT6": 6.0, "VAT0": 0.0}
UNMAPPED_EMPLOYEE = "emp_20"  # every sandbox employee but this one exists in Odoo


def setup_expense_world(env, company, sandbox, purchase_journal, bank_journal, expense_account):
    """What a real installation has before the first sync: currencies and a USD rate, card
    clearing accounts, purchase taxes, expense products, analytic accounts, employees, an
    active expense backend on ``sandbox`` and its mappings. Returns the records by name (the
    test case's class attributes; the benchmark script uses it on a committed database)."""
    env["res.currency"].with_context(active_test=False).search(
        [("name", "in", ("USD", "GBP", "JPY", "EUR"))]).write({"active": True})
    env["res.currency.rate"].search([("currency_id.name", "in", ("USD", "GBP", "JPY"))]).unlink()
    usd = env.ref("base.USD")
    env["res.currency.rate"].create({"name": "2000-01-01", "currency_id": usd.id, "company_id": company.id,
                                     "rate": 1.0 / 0.9210})
    company.expense_journal_id = purchase_journal
    Account = env["account.account"].with_company(company)
    clearing = Account.create({"name": "Card clearing", "code": "CARDCLR", "account_type": "asset_current",
                               "reconcile": True})
    card_liability = Account.create({"name": "Card issuer", "code": "CARDLIA", "account_type": "liability_current"})
    taxes = {code: env["account.tax"].create({"name": "%s purchase" % code, "amount": rate,
                                              "type_tax_use": "purchase", "company_id": company.id})
             for code, rate in TAX_RATES.items()}
    products = {code: env["product.product"].create({
        "name": code.replace("_", " ").title(), "default_code": code, "can_be_expensed": True,
        "standard_price": 0.0, "supplier_taxes_id": [Command.clear()],
        "property_account_expense_id": expense_account.id,
    }) for code in sandbox_data.CATEGORIES}
    plan_cc = env["account.analytic.plan"].create({"name": "Cost centers"})
    plan_prj = env["account.analytic.plan"].create({"name": "Projects"})
    analytic = {code: env["account.analytic.account"].create({"name": code, "plan_id": plan_cc.id})
                for code in sandbox_data.COST_CENTERS}
    analytic.update({code: env["account.analytic.account"].create({"name": code, "plan_id": plan_prj.id})
                     for code in sandbox_data.PROJECTS})
    employees = {}
    for emp in sandbox.state.expense.employees:
        if emp["id"] == UNMAPPED_EMPLOYEE:
            continue
        partner = env["res.partner"].create({"name": emp["name"], "email": emp["email"]})
        employees[emp["id"]] = env["hr.employee"].create({
            "name": emp["name"], "work_email": emp["email"], "work_contact_id": partner.id,
            "company_id": company.id})

    backend = env["finance.backend"].create({
        "name": "Expense sandbox", "kind": "expense", "company_id": company.id,
        "base_url": sandbox.url("expense"), "auth_method": "oauth2",
        "client_id": config.EXPENSE_CLIENT_ID, "client_secret": config.EXPENSE_CLIENT_SECRET,
        "webhook_secret": "webhook-secret", "expense_page_size": 50,
        "expense_card_journal_id": bank_journal.id, "expense_card_clearing_account_id": clearing.id,
        "expense_card_payable_account_id": card_liability.id,
    })
    backend.action_activate()
    rows = [("company", ref, company) for ref in sandbox_data.COMPANY_REFS]
    rows += [("expense_category", code, product) for code, product in products.items()]
    rows += [("tax", code, tax) for code, tax in taxes.items()]
    rows += [("analytic", code, account) for code, account in analytic.items()]
    env["finance.mapping"].create([{"backend_id": backend.id, "kind": kind, "external_code": code,
                                    "value_ref": "%s,%s" % (record._name, record.id)}
                                   for kind, code, record in rows])
    return {"company": company, "eur": company.currency_id, "usd": usd, "purchase_journal": purchase_journal,
            "bank_journal": bank_journal, "expense_account": expense_account, "clearing": clearing,
            "card_liability": card_liability, "taxes": taxes, "products": products, "analytic": analytic,
            "employees": employees, "backend": backend}
