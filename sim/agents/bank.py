"""The focal bank: the one strategic actor whose money the ledger tracks."""

from __future__ import annotations

import mesa

from sim.scenarios.schema import Bank as BankParams

__all__ = ["Bank"]


class Bank(mesa.Agent):
    """The focal bank (a ``mesa.Agent``).

    Books the day's income from its balance sheet and card book into the
    model's ledger: net interest on deposits at an annual margin spread over
    365 days, and the margin of its credit cards.
    """

    def __init__(self, model: mesa.Model, params: BankParams):
        super().__init__(model)
        self.params = params
        ledger = model.ledger_book
        for cause in ("acquiring_fee", "net_interest_retail", "net_interest_corporate",
                      "card_income"):
            ledger.register(cause, "income")

    def book_balance_sheet(self, day: int, retail: float, corporate: float,
                           credit_cards: int) -> tuple[float, float]:
        """Book one day of net interest and card income; returns (interest, cards)."""
        p = self.params
        ledger = self.model.ledger_book
        retail_nii = retail * p.nim_retail_annual / 365.0
        corporate_nii = corporate * p.nim_corporate_annual / 365.0
        cards = credit_cards * p.card_income_per_day_yuan
        ledger.book(day, "net_interest_retail", retail_nii)
        ledger.book(day, "net_interest_corporate", corporate_nii)
        ledger.book(day, "card_income", cards)
        return retail_nii + corporate_nii, cards
