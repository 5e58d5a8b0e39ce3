#!/usr/bin/env python3
"""Role tables of docs/admin-guide.md, generated from the access matrices the test suite runs over
HTTP/JSON-RPC as real logged-in users.

One generator for every matrix: each matrix file defines, at module level and in plain Python,
``ROLES`` (a list of role names, or a dict whose keys are the role names) and ``MATRIX`` (an
iterable of ``(role, model, operation, "allow"|"deny")``). The file is read without Odoo: its
top-level definitions are evaluated, its imports of Odoo and of the addon (and its classes) are
left out. Each matrix's test checks that the guide holds exactly the table printed here.

    scripts/role_table.py                 print every table
    scripts/role_table.py treasury        print one (core, treasury, bank)
    scripts/role_table.py --write [name]  rewrite the table(s) in docs/admin-guide.md
"""
import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUIDE = os.path.join(ROOT, "docs", "admin-guide.md")

MATRICES = {
    "core": {
        "file": "addons/finance_sync_core/tests/test_access_matrix.py",
        "headings": {"portal": "Portal", "internal": "Employee", "user": "Finance sync user",
                     "manager": "Finance sync manager", "manager_b": "Manager of another company"},
    },
    "treasury": {
        "file": "addons/treasury_connector/tests/test_access_matrix.py",
        "headings": {"internal": "Employee", "sync_user": "Finance sync user",
                     "preparer": "Preparer (Invoicing: Billing)", "approver": "Treasury approver",
                     "approver_2": "Second treasury approver", "sync_manager": "Finance sync manager",
                     "other_manager": "Accounting manager of another company"},
    },
    "bank": {
        "file": "addons/bank_reconcile_feed/tests/test_access_matrix.py",
        "headings": {"internal": "Employee", "sync_user": "Finance sync user",
                     "sync_manager": "Finance sync manager", "accountant": "Accountant",
                     "other_company_manager": "Manager of another company"},
    },
}
MARKS = {"allow": "yes", "deny": "no"}


def markers(name):
    return "<!-- role-table:%s:start -->" % name, "<!-- role-table:%s:end -->" % name


def _skipped(node):
    """Top-level statements the table does not need: classes, and imports of Odoo or of the
    addon itself (relative), which need a database to import."""
    if isinstance(node, ast.ClassDef):
        return True
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] == "odoo"
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] == "odoo" for alias in node.names)
    return False


def load_matrix(path):
    """``(roles, cells)`` of a matrix file, cells as ``(role, model, operation, verdict)``."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    tree.body = [node for node in tree.body if not _skipped(node)]
    namespace = {"__name__": "role_table_matrix", "__file__": path}
    exec(compile(tree, path, "exec"), namespace)
    roles = list(namespace["ROLES"])
    cells = [tuple(cell) for cell in namespace["MATRIX"]]
    for role, _model, _operation, verdict in cells:
        if role not in roles or verdict not in MARKS:
            raise ValueError("%s: bad cell role=%r verdict=%r" % (path, role, verdict))
    return roles, cells


def table(name):
    spec = MATRICES[name]
    roles, cells = load_matrix(os.path.join(ROOT, spec["file"]))
    rows = []
    for _role, model, operation, _verdict in cells:
        if (model, operation) not in rows:
            rows.append((model, operation))
    verdict = {(r, m, o): v for r, m, o, v in cells}
    headings = [spec["headings"].get(role, role) for role in roles]
    out = ["| Model | Operation | %s |" % " | ".join(headings),
           "|---|---|" + "---|" * len(roles)]
    for model, operation in rows:
        marks = [MARKS.get(verdict.get((role, model, operation)), "?") for role in roles]
        out.append("| `%s` | %s | %s |" % (model, operation, " | ".join(marks)))
    start, end = markers(name)
    footer = "%d cells (%d roles x %d operations), from `%s`." % (len(cells), len(roles), len(rows), spec["file"])
    return "\n".join([start] + out + ["", footer, end])


def write(names):
    with open(GUIDE, encoding="utf-8") as handle:
        guide = handle.read()
    for name in names:
        text, (start, end) = table(name), markers(name)
        if start in guide:
            head, rest = guide.split(start, 1)
            guide = head + text + rest.split(end, 1)[1]
        else:
            guide = guide.rstrip("\n") + "\n\n" + text + "\n"
    with open(GUIDE, "w", encoding="utf-8") as handle:
        handle.write(guide)


def main(argv):
    names = [a for a in argv if not a.startswith("--")] or list(MATRICES)
    unknown = [n for n in names if n not in MATRICES]
    if unknown:
        sys.exit("unknown matrix %s (known: %s)" % (", ".join(unknown), ", ".join(MATRICES)))
    if "--write" in argv:
        write(names)
    print("\n\n".join(table(name) for name in names))


if __name__ == "__main__":
    main(sys.argv[1:])
