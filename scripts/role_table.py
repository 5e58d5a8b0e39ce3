#!/usr/bin/env python3
"""Print (or --write into docs/admin-guide.md) the core role table generated from the access
matrix in addons/finance_sync_core/tests/test_access_matrix.py. Reads the matrix with ``ast``
(no Odoo needed); the test suite checks the guide holds exactly this table."""
import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MATRIX_FILE = os.path.join(ROOT, "addons", "finance_sync_core", "tests", "test_access_matrix.py")
GUIDE = os.path.join(ROOT, "docs", "admin-guide.md")
START, END = "<!-- role-table:core:start -->", "<!-- role-table:core:end -->"
HEADINGS = {"portal": "Portal", "internal": "Employee", "user": "Finance sync user",
            "manager": "Finance sync manager", "manager_b": "Manager of another company"}


def load_matrix(path=MATRIX_FILE):
    tree = ast.parse(open(path, encoding="utf-8").read())
    consts, roles, cells = {}, None, []
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        targets = node.targets[0]
        if isinstance(targets, ast.Tuple) and isinstance(node.value, ast.Tuple):
            for name, value in zip(targets.elts, node.value.elts):
                consts[name.id] = ast.literal_eval(value)
        elif getattr(targets, "id", None) == "ROLES":
            roles = ast.literal_eval(node.value)
        elif getattr(targets, "id", None) == "MATRIX":
            for item in node.value.elts:
                if isinstance(item, ast.Starred) and getattr(item.value.func, "id", None) == "_row":
                    args = [consts[a.id] if isinstance(a, ast.Name) else ast.literal_eval(a) for a in item.value.args]
                    model, operation, verdicts = args[0], args[1], args[2:]
                    cells.extend((role, model, operation, v) for role, v in zip(roles, verdicts))
                else:
                    cells.append(tuple(ast.literal_eval(item)))
    return roles, cells


def table(roles, cells):
    rows = []
    for _role, model, operation, _v in cells:
        if (model, operation) not in rows:
            rows.append((model, operation))
    verdict = {(r, m, o): v for r, m, o, v in cells}
    out = ["| Model | Operation | %s |" % " | ".join(HEADINGS.get(r, r) for r in roles),
           "|---|---|%s" % "---|" * len(roles)]
    for model, operation in rows:
        marks = [{"allow": "yes", "deny": "no"}.get(verdict.get((r, model, operation)), "?") for r in roles]
        out.append("| `%s` | %s | %s |" % (model, operation, " | ".join(marks)))
    return "\n".join([START] + out + ["", "%d cells." % len(cells), END])


def main():
    text = table(*load_matrix())
    if "--write" in sys.argv:
        guide = open(GUIDE, encoding="utf-8").read()
        if START in guide:
            head, rest = guide.split(START, 1)
            guide = head + text + rest.split(END, 1)[1]
        else:
            guide = guide.rstrip("\n") + "\n\n" + text + "\n"
        open(GUIDE, "w", encoding="utf-8").write(guide)
    print(text)


if __name__ == "__main__":
    main()
