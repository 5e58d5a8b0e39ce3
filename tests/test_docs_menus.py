"""Every menu path the documentation names exists in the installed database.

Notation (docs/README, "Writing menu paths"): a menu path is written in italics from the app
down, levels separated by " › " (U+203A), exactly as the menus are named in Odoo 18 Community,
e.g. *Invoicing › Finance Sync › Exception Queue*. A section of a settings screen follows the
path as ``, section **Title**``. This test reads docs/*.md, README.md and every addon's
readme/*.md and checks

- each italic path against the complete names of ``ir.ui.menu`` (the menus that exist);
- each settings section against the block titles of the settings form;
- that no path is written another way: an app or the Finance Sync menu followed by ">", "→"
  or "›" outside the notation (outside code blocks) is reported with its file and line.
"""
import glob
import os
import re

from lxml import etree

from odoo.tests import TransactionCase, tagged

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEP = " › "
# italics may wrap over lines (not over a blank line)
CHAR = r"(?:[^*\n]|\n(?!\s*\n))"
MENU_PATH = re.compile(r"(?<![*\w])\*(?!\*)(%s+?›%s*?)\*(?![*\w])" % (CHAR, CHAR))
SECTION = re.compile(r"\s*,\s*section \*\*([^*\n]+)\*\*")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def doc_files():
    files = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    files.append(os.path.join(ROOT, "README.md"))
    files += sorted(glob.glob(os.path.join(ROOT, "addons", "*", "readme", "*.md")))
    return files


def suite_addons():
    return sorted(name for name in os.listdir(os.path.join(ROOT, "addons"))
                  if os.path.isfile(os.path.join(ROOT, "addons", name, "__manifest__.py")))


def _blank(match):
    """Keep line numbers: replace a code span or block by as many newlines."""
    return "\n" * match.group(0).count("\n")


def menu_paths(text):
    """[(line, path, section or None)] of the menu paths written in the notation."""
    text = FENCE.sub(_blank, text)
    text = INLINE_CODE.sub("", text)
    found = []
    for match in MENU_PATH.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        section = SECTION.match(text, match.end())
        found.append((line, " ".join(match.group(1).split()), section and section.group(1).strip()))
    return found


def strays(text, starts):
    """[(line, snippet)] of menu paths written outside the notation: one of ``starts`` (app
    names, Finance Sync) followed by >, → or ›, and any › left outside an italic path."""
    text = FENCE.sub(_blank, text)
    text = INLINE_CODE.sub("", text)
    text = MENU_PATH.sub(lambda m: " " * len(m.group(0)), text)
    names = "|".join(sorted((re.escape(s) for s in starts), key=len, reverse=True))
    pattern = re.compile(r"\b(?:%s)\s*(?:>|→|›|&gt;)\s*\w" % names)
    found = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if pattern.search(line) or "›" in line:
            found.append((lineno, line.strip()[:120]))
    return found


@tagged("post_install", "-at_install")
class TestDocsMenus(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Module = cls.env["ir.module.module"].sudo()
        missing = [name for name in suite_addons()
                   if not Module.search_count([("name", "=", name), ("state", "=", "installed")])]
        cls.missing_addons = missing
        # every menu that exists, whoever may see it (ir.ui.menu filters by groups otherwise)
        menus = cls.env["ir.ui.menu"].sudo().with_context(lang="en_US", **{"ir.ui.menu.full_list": True}).search([])
        cls.menus = {menu.complete_name.replace("/", SEP): menu for menu in menus}
        cls.roots = set(menus.filtered(lambda m: not m.parent_id).mapped("name"))

    def settings_sections(self):
        arch = self.env["res.config.settings"].sudo().get_view(view_type="form")["arch"]
        tree = etree.fromstring(arch)
        return {block.get("title") for block in tree.iter("block") if block.get("title")}

    def test_notation_finds_paths_and_strays(self):
        """The parser itself: what it takes as a path, a section and a stray."""
        text = ("Open *Invoicing › Finance Sync › Backends*, then *Invoicing › Configuration › Settings*, "
                "section **Finance Sync**.\nOld: Accounting > Finance Sync > Backends and Finance Sync → Trace.\n"
                "```\nInvoicing > code is ignored\n```\n*Draft → To Approve* is no menu; `a › b` is code.\n")
        self.assertEqual(menu_paths(text), [(1, "Invoicing › Finance Sync › Backends", None),
                                            (1, "Invoicing › Configuration › Settings", "Finance Sync")])
        self.assertEqual([line for line, _s in strays(text, {"Accounting", "Finance Sync", "Invoicing"})], [2])

    def test_every_documented_menu_path_exists(self):
        if self.missing_addons:
            self.skipTest("the documentation names menus of every suite addon; not installed: %s"
                          % ", ".join(self.missing_addons))
        sections = self.settings_sections()
        starts = self.roots | {"Accounting", "Finance Sync"}
        problems = []
        count = 0
        for path in doc_files():
            rel = os.path.relpath(path, ROOT)
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            for line, menu, section in menu_paths(text):
                count += 1
                if menu not in self.menus:
                    problems.append("%s:%d: no menu *%s*" % (rel, line, menu))
                    continue
                if section is not None:
                    action = self.menus[menu].action
                    if not action or action._name != "ir.actions.act_window" or action.res_model != "res.config.settings":
                        problems.append("%s:%d: *%s* is not a settings screen (section **%s**)" % (rel, line, menu, section))
                    elif section not in sections:
                        problems.append("%s:%d: the settings have no section **%s** (they have: %s)"
                                        % (rel, line, section, ", ".join(sorted(sections))))
            for line, snippet in strays(text, starts):
                problems.append("%s:%d: write menu paths as *App › Menu › Item*: %s" % (rel, line, snippet))
        self.assertGreater(count, 20, "the docs name menus; the notation must find them")
        self.assertFalse(problems, "\n".join(problems))
