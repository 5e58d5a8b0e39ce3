"""The Odoo records that match the simulator's data, as a real installation has them before its
first sync: the expense setup (employees, categories, cost centres, mappings) and the bank
simulator's customer invoices posted. Used by the connectors' tests, ``scripts/bench_expense.py``
and the finance_sync_demo addon; no connector's business code imports it (the connectors do not
depend on the sandbox)."""
from odoo import Command

from odoo.addons.finance_sync_sandbox.sandbox_server import config
from odoo.addons.finance_sync_sandbox.sandbox_server import data as sandbox_data

TAX_RATES = {"VAT21": 21.0, "VAT6": 6.0, "VAT0": 0.0}
UNMAPPED_EMPLOYEE = "emp_20"  # every sandbox employee but this one exists in Odoo


def setup_expense_world(env, company, sandbox, purchase_journal, bank_journal, expense_account):
    """What a real installation has before the first sync: currencies and a USD rate, card
    clearing accounts, purchase taxes, expense products, analytic accounts, employees, an
    active expense backend on ``sandbox`` (an in-process ``SandboxServer``) and its mappings.
    Returns the records by name (the test case's class attributes; the benchmark script uses
    it on a committed database)."""
    return build_expense_world(
        env, company, sandbox.state.expense.employees, purchase_journal, bank_journal, expense_account,
        backend_vals={"name": "Expense sandbox", "base_url": sandbox.url("expense"), "expense_page_size": 50})


def build_expense_world(env, company, employees, purchase_journal, bank_journal, expense_account, backend_vals=None,
                        backend=None, rated_currencies=("USD",), unmapped_employees=(UNMAPPED_EMPLOYEE,),
                        unmapped_categories=(), secrets=True):
    """The setup of :func:`setup_expense_world` from plain data, for any company.

    ``employees``: the platform's employees (dicts with id, name, email), those in
    ``unmapped_employees`` left out. ``backend``: an existing backend to turn into this
    company's expense backend (else one is created); ``backend_vals`` add to / override the
    backend's values. ``rated_currencies``: the currencies given the platform's fixed rate
    against the company currency (the others keep no rate of this company's; other companies'
    rates are left alone). ``unmapped_categories``:
    expense categories whose product exists but is not mapped (the "Fix mapping" flow).
    ``secrets``: False leaves the backend's secrets to the caller (they need the encryption key)."""
    env["res.currency"].with_context(active_test=False).search(
        [("name", "in", ("USD", "GBP", "JPY", "EUR"))]).write({"active": True})
    own = company.currency_id.name
    # this company's own rates only: another company's rates (or shared ones) are its books, not the world's
    env["res.currency.rate"].search([("company_id", "=", company.root_id.id), ("currency_id.name", "in", tuple(
        c for c in ("USD", "GBP", "JPY", "EUR") if c != own))]).unlink()
    for code in rated_currencies:
        if code == own:
            continue
        # units of ``code`` per unit of the company currency, from the platform's EUR table
        env["res.currency.rate"].create({
            "name": "2000-01-01", "currency_id": env.ref("base.%s" % code).id, "company_id": company.id,
            "rate": float(sandbox_data.EUR_RATES[own]) / float(sandbox_data.EUR_RATES[code])})
    usd = env.ref("base.USD")
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
    hr_employees = {}
    for emp in employees:
        if emp["id"] in unmapped_employees:
            continue
        partner = env["res.partner"].create({"name": emp["name"], "email": emp["email"]})
        hr_employees[emp["id"]] = env["hr.employee"].create({
            "name": emp["name"], "work_email": emp["email"], "work_contact_id": partner.id,
            "company_id": company.id})

    vals = {
        "kind": "expense", "company_id": company.id, "auth_method": "oauth2",
        "client_id": config.EXPENSE_CLIENT_ID, "client_secret": config.EXPENSE_CLIENT_SECRET,
        "webhook_secret": "webhook-secret",
        "expense_card_journal_id": bank_journal.id, "expense_card_clearing_account_id": clearing.id,
        "expense_card_payable_account_id": card_liability.id,
    }
    if not secrets:
        del vals["client_secret"], vals["webhook_secret"]
    vals.update(backend_vals or {})
    if backend:
        backend.write(vals)
    else:
        backend = env["finance.backend"].create(vals)
    if backend.state != "active":
        backend.action_activate()
    rows = [("company", ref, company) for ref in sandbox_data.COMPANY_REFS]
    rows += [("expense_category", code, product) for code, product in products.items()
             if code not in unmapped_categories]
    rows += [("tax", code, tax) for code, tax in taxes.items()]
    rows += [("analytic", code, account) for code, account in analytic.items()]
    # a reused backend may hold rows already (e.g. left empty by an unmapped value): fill them
    existing = {(m.kind, m.external_code): m for m in env["finance.mapping"].search([("backend_id", "=", backend.id)])}
    for kind, code, record in rows:
        if (kind, code) in existing:
            existing[(kind, code)].value_ref = "%s,%s" % (record._name, record.id)
    env["finance.mapping"].create([{"backend_id": backend.id, "kind": kind, "external_code": code,
                                    "value_ref": "%s,%s" % (record._name, record.id)}
                                   for kind, code, record in rows if (kind, code) not in existing])
    return {"company": company, "eur": company.currency_id, "usd": usd, "purchase_journal": purchase_journal,
            "bank_journal": bank_journal, "expense_account": expense_account, "clearing": clearing,
            "card_liability": card_liability, "taxes": taxes, "products": products, "analytic": analytic,
            "employees": hr_employees, "backend": backend}


def _accounting_date(inv):
    year = inv["number"].split("/")[1] if inv["number"].count("/") == 2 else ""
    if year.isdigit() and len(year) == 4 and inv["invoice_date"][:4] < year:
        return "%s-01-01" % year
    return inv["invoice_date"]


def post_sandbox_invoices(env, invoices, journal=None):
    """Post the simulator's demo customer invoices (``GET /_sandbox/bank/invoices``) as customer
    invoices of ``env.company`` under the simulator's numbers, with their RF reference as payment
    reference and one untaxed line; customers are found by IBAN or created with it. The simulator
    numbers every invoice in the year of its "today": early in a year, an invoice dated in the
    previous one is booked on January 1st (Odoo wants the number's year and the accounting date's
    to agree). Returns ``{number: account.move}``."""
    partners = {}
    for inv in invoices:
        if inv["customer"] in partners:
            continue
        bank = env["res.partner.bank"].search([("sanitized_acc_number", "=", inv["customer_iban"].replace(" ", ""))],
                                              limit=1)
        partners[inv["customer"]] = bank.partner_id or env["res.partner"].create({
            "name": inv["customer"], "is_company": True, "customer_rank": 1,
            "bank_ids": [Command.create({"acc_number": inv["customer_iban"]})]})
    moves = env["account.move"].create([{
        "move_type": "out_invoice", "partner_id": partners[inv["customer"]].id, "name": inv["number"],
        "invoice_date": inv["invoice_date"], "date": _accounting_date(inv),
        "payment_reference": inv["structured_reference"],
        **({"journal_id": journal.id} if journal else {}),
        "invoice_line_ids": [Command.create({"name": "Goods", "quantity": 1, "price_unit": float(inv["amount"]),
                                             "tax_ids": []})]} for inv in invoices])
    moves.action_post()
    return dict(zip([inv["number"] for inv in invoices], moves))
