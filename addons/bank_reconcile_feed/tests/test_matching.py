"""The pure matching engine: each rule, explanations, ambiguity, and properties (hypothesis)."""
import unittest
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from ..engine.matching import Item, Line, MatchIndex, PatternError, Rule, compact, compile_user_pattern

IBAN = "BE71096123456769"


def items():
    return [
        Item(1, D("100.00"), 7, "Acme Supplies BV", "INV/2026/00123", partner_ibans=(IBAN,)),
        Item(2, D("50.00"), 7, "Acme Supplies BV", "INV/2026/00124", partner_ibans=(IBAN,)),
        Item(3, D("50.00"), 8, "Nordwind Handels GmbH", "INV/2026/00125", reference="RF18539007547034"),
        Item(4, D("-430.00"), 9, "Proximus NV", "BILL/2026/0042"),
        Item(5, D("75.00"), 10, "Blue Lake SA", "INV/2026/00126", end_to_end_id="b1c0ffee" * 4),
        Item(6, D("75.00"), 10, "Blue Lake SA", "INV/2026/00127"),
    ]


class TestRules(unittest.TestCase):
    def setUp(self):
        self.index = MatchIndex(items(), tolerance=D("2.00"))

    def best(self, **kw):
        result = self.index.match(Line(id=1, **kw))
        return result, result.best

    def test_end_to_end_id(self):
        result, best = self.best(amount=D("75.00"), end_to_end_id="B1C0FFEE" * 4)
        self.assertEqual((best.item_ids, best.rule, best.score), ((5,), "end_to_end", 1.0))
        self.assertIsNotNone(result.auto(0.9))

    def test_structured_reference_with_spaces(self):
        _r, best = self.best(amount=D("50.00"), structured_reference="RF18 5390 0754 7034")
        self.assertEqual((best.item_ids, best.rule), ((3,), "structured_reference"))
        self.assertIn("RF18 5390 0754 7034", best.explanation)

    def test_invoice_number_reformatted_in_noise(self):
        for text in ("inv 2026 00123", "Payment INV-2026-00123 thanks", "INV202600123", "ref: Inv/2026/00123/4711 x",
                     "INV 2026 00123 4711"):
            with self.subTest(text):
                result, best = self.best(amount=D("100.00"), remittance=text)
                self.assertEqual((best.item_ids, best.rule), ((1,), "reference_in_text"))
                self.assertFalse(result.ambiguous)

    def test_amount_and_iban(self):
        _r, best = self.best(amount=D("100.00"), counterparty_iban="be71 0961 2345 6769")
        self.assertEqual((best.item_ids, best.rule), ((1,), "amount_iban"))

    def test_same_payer_same_amount_is_ambiguous(self):
        index = MatchIndex([Item(1, D("50"), 7, "Acme", "INV/1", partner_ibans=(IBAN,)),
                            Item(2, D("50"), 7, "Acme", "INV/2", partner_ibans=(IBAN,))])
        result = index.match(Line(1, D("50"), counterparty_iban=IBAN, remittance="payment"))
        self.assertTrue(result.ambiguous)
        self.assertIsNone(result.auto(0.5))
        self.assertEqual(len(result.proposals), 2)

    def test_reference_beats_same_amount(self):
        index = MatchIndex([Item(1, D("50"), 7, "Acme", "INV/2026/00001", partner_ibans=(IBAN,)),
                            Item(2, D("50"), 7, "Acme", "INV/2026/00002", partner_ibans=(IBAN,))])
        result = index.match(Line(1, D("50"), counterparty_iban=IBAN, remittance="INV 2026 00002"))
        self.assertEqual(result.auto(0.9).item_ids, (2,))

    def test_several_references(self):
        _r, best = self.best(amount=D("150.00"), remittance="INV/2026/00123 + INV/2026/00124")
        self.assertEqual((best.item_ids, best.rule), ((1, 2), "several_references"))

    def test_subset_sum(self):
        _r, best = self.best(amount=D("150.00"), counterparty_iban=IBAN, remittance="payment")
        self.assertEqual((best.item_ids, best.rule), ((1, 2), "subset_sum"))

    def test_partial(self):
        _r, best = self.best(amount=D("60.00"), remittance="INV/2026/00123")
        self.assertTrue(best.partial)
        self.assertIn("40.00 stays open", best.explanation)

    def test_writeoff_within_tolerance(self):
        _r, best = self.best(amount=D("98.50"), remittance="INV/2026/00123")
        self.assertEqual(best.writeoff, D("-1.50"))
        self.assertFalse(best.partial)

    def test_amount_and_name(self):
        # the partner's own name (legal form spelled with dots): strong enough to reconcile
        result, best = self.best(amount=D("-430.00"), counterparty_name="PROXIMUS N.V.")
        self.assertEqual((best.item_ids, best.rule), ((4,), "amount_partner_name"))
        self.assertIs(result.auto(0.9), best)
        # a similar name that is not the partner's: proposed to a person only
        result, best = self.best(amount=D("-430.00"), counterparty_name="PROXIMUS BELGIUM")
        self.assertEqual((best.item_ids, best.rule), ((4,), "amount_name"))
        self.assertLess(best.score, 0.9)
        self.assertIsNone(result.auto(0.9))

    def test_unknown_payer(self):
        result, best = self.best(amount=D("12.34"), counterparty_name="Nobody", remittance="gift 99999")
        self.assertIsNone(best)
        self.assertIsNone(result.auto(0.0))

    def test_top3(self):
        index = MatchIndex([Item(i, D("10"), 7, "Acme", "INV/%d" % i, partner_ibans=(IBAN,)) for i in range(1, 8)])
        self.assertEqual(len(index.match(Line(1, D("10"), counterparty_iban=IBAN)).proposals), 3)


class TestForeignCurrency(unittest.TestCase):
    """An item of 1000 USD booked at 500.00 EUR; the line's date has 1 USD = 0.4762 EUR."""

    def setUp(self):
        self.index = MatchIndex(
            [Item(1, D("500.00"), 7, "Acme Inc", "INV/2026/00001", currency="USD", residual_currency=D("1000.00"),
                  partner_ibans=(IBAN,)),
             Item(2, D("476.20"), 8, "Other BV", "INV/2026/00002")],
            rate=lambda f, t, day: D("0.4762") if (f, t, day) == ("USD", "EUR", "2026-11-20") else None,
            fx_tolerance=D("0.01"))

    def test_bank_foreign_amount_is_compared_in_the_item_currency(self):
        result = self.index.match(Line(1, D("470.00"), remittance="INV/2026/00001", date="2026-11-20",
                                       foreign_currency="USD", amount_currency=D("1000.00")))
        self.assertEqual((result.best.item_ids, result.best.writeoff, result.best.fx), ((1,), D(0), True))
        self.assertIsNotNone(result.auto(0.9))
        partial = self.index.match(Line(2, D("200.00"), remittance="INV/2026/00001", date="2026-11-20",
                                        foreign_currency="USD", amount_currency=D("400.00"))).best
        self.assertTrue(partial.partial)

    def test_company_rate_within_tolerance_is_an_exchange_difference(self):
        best = self.index.match(Line(1, D("474.00"), remittance="INV/2026/00001", date="2026-11-20")).best
        self.assertFalse(best.partial)
        self.assertEqual(best.writeoff, D(0), "an exchange difference, not a write-off")
        self.assertIn("476.20", best.explanation)
        far = self.index.match(Line(2, D("490.00"), remittance="INV/2026/00001", date="2026-11-20")).best
        self.assertLess(far.score, 0.5)
        # no rate known for the date: a foreign item cannot be compared, so it is not proposed
        self.assertIsNone(self.index.match(Line(3, D("476.20"), remittance="INV/2026/00001", date="2026-01-01")).best)

    def test_amount_and_iban_across_currencies_never_mixes_in_same_currency_items(self):
        result = self.index.match(Line(1, D("476.20"), counterparty_iban=IBAN, date="2026-11-20"))
        self.assertEqual(result.best.item_ids, (1,))
        self.assertEqual(self.index.match(Line(2, D("476.20"), counterparty_name="Other BV")).best.item_ids, (2,))


class TestRulesEngine(unittest.TestCase):
    def rules(self):
        return [Rule(1, "Bank fees", label="fee", sign="out", amount_max=D("50"), auto=True),
                Rule(2, "Salaries", label=r"^SALARY \d{4}-\d{2}", regex=True, sign="out"),
                Rule(3, "Card settlement", counterparty="worldline", iban="BE10", sign="in")]

    def test_conditions_sign_range_and_order(self):
        index = MatchIndex([Item(1, D("-12.10"), 5, "Bank", "BILL/2026/0001")], rules=self.rules())
        fee = index.match(Line(1, D("-11.50"), remittance="Account FEE 11/2026")).best
        self.assertEqual((fee.rule, fee.rule_id, fee.item_ids), ("rule:1", 1, ()))
        self.assertIn("Bank fees", fee.explanation)
        self.assertIsNotNone(index.match(Line(1, D("-11.50"), remittance="fee")).auto(0.9))
        self.assertIsNone(index.match(Line(2, D("-60.00"), remittance="fee")).best, "above the range")
        self.assertIsNone(index.match(Line(3, D("11.50"), remittance="fee")).best, "money in")
        salary = index.match(Line(4, D("-2500"), remittance="SALARY 2026-11 Ana")).best
        self.assertEqual(salary.rule_id, 2)
        self.assertIsNone(index.match(Line(4, D("-2500"), remittance="advance SALARY 2026-11")).auto(0.5))
        card = index.match(Line(5, D("812.00"), counterparty_name="Worldline SA", counterparty_iban="BE10 0000")).best
        self.assertEqual(card.rule_id, 3)
        self.assertIsNone(index.match(Line(6, D("812.00"), counterparty_name="Worldline SA")).best, "IBAN differs")

    def test_a_document_match_as_strong_as_a_rule_is_ambiguous(self):
        index = MatchIndex([Item(1, D("-12.10"), 5, "Bank", "BILL/2026/0001")], rules=self.rules())
        result = index.match(Line(1, D("-12.10"), remittance="fee BILL/2026/0001"))
        self.assertTrue(result.ambiguous)
        self.assertIsNone(result.auto(0.9))


NUMBERS = st.integers(min_value=1, max_value=99999)
SEPARATORS = st.sampled_from(["/", " ", "-", "", " / ", "."])
NOISE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", max_size=20)


class TestProperties(unittest.TestCase):
    @settings(max_examples=200, deadline=None)
    @given(st.sets(NUMBERS, min_size=1, max_size=30), st.data())
    def test_reformatted_number_finds_its_item(self, numbers, data):
        numbers = sorted(numbers)
        index = MatchIndex([Item(n, D(n), n, "P%d" % n, "INV/2026/%05d" % n) for n in numbers])
        target = data.draw(st.sampled_from(numbers))
        sep1, sep2 = data.draw(SEPARATORS), data.draw(SEPARATORS)
        prefix = data.draw(st.sampled_from(["INV", "inv", "Inv"]))
        text = "%s %s%s2026%s%05d %s" % (data.draw(NOISE), prefix, sep1, sep2, target, data.draw(NOISE))
        result = index.match(Line(1, D(target), remittance=text))
        self.assertEqual(result.best.item_ids, (target,), text)
        self.assertIs(result.auto(0.9), result.best)

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.integers(min_value=1, max_value=500), min_size=1, max_size=12), st.integers(1, 2000))
    def test_auto_never_on_ambiguous_and_amounts_add_up(self, amounts, paid):
        index = MatchIndex([Item(i, D(a), 1, "Acme", "X%d" % i, partner_ibans=(IBAN,)) for i, a in enumerate(amounts, 1)],
                           tolerance=D("1"))
        result = index.match(Line(1, D(paid), counterparty_iban=IBAN))
        if result.ambiguous:
            self.assertIsNone(result.auto(0.0))
        for proposal in result.proposals:
            total = sum(D(amounts[i - 1]) for i in proposal.item_ids)
            if not proposal.partial and proposal.score > 0.5:
                self.assertLessEqual(abs(D(paid) - total), 1)
                self.assertEqual(D(paid) - total, proposal.writeoff)
        auto = result.auto(0.85)
        if auto is not None:
            # only one way to pay it: no other subset / item of the same amount scored close
            self.assertFalse(result.ambiguous)

    @given(st.text(max_size=40))
    def test_compact_is_idempotent(self, text):
        self.assertEqual(compact(compact(text)), compact(text))


class TestUserPatternsRunOnRe2(unittest.TestCase):
    """Issue 11 item 9: a rule regex written by a user runs on a linear-time engine (RE2)."""

    def test_catastrophic_pattern_on_a_long_remittance(self):
        import re2
        rule = Rule(id=1, name="Words", label=r"^(\w+\s?)*$", regex=True).compile()
        self.assertIsInstance(rule._label, type(re2.compile("x")), "the rule's pattern is compiled by RE2")
        # the payer's text: a long run of word characters ending in a character the pattern refuses
        # (backtracking engines take exponential time on it; RE2 is linear)
        hostile = "A" * 5000 + "!"
        self.assertIsNone(rule.explain(Line(id=1, amount=D("-5.00"), remittance=hostile)))
        self.assertTrue(rule.explain(Line(id=2, amount=D("-5.00"), remittance="monthly fee " + "ab " * 2000)))

    def test_case_insensitive_and_literal_substrings(self):
        self.assertTrue(compile_user_pattern("fee").search("Account FEE 11/2026"))
        self.assertTrue(compile_user_pattern("a.b", regex=False).search("x A.B y"))
        self.assertFalse(compile_user_pattern("a.b", regex=False).search("aXb"))

    def test_patterns_re2_cannot_run_are_refused_with_the_reason(self):
        for pattern in (r"(a)\1", r"fee(?=s)", "("):
            with self.subTest(pattern=pattern), self.assertRaises(PatternError) as caught:
                compile_user_pattern(pattern)
            self.assertIn(pattern, str(caught.exception))
