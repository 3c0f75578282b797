"""The focal bank: the one strategic actor whose money the ledger tracks.

Each day the bank settles what its payees received (acquiring fees net of the
wallet and card legs; the payees' balances, which are its corporate deposits)
and books its balance sheet (net interest, card income, the cost of servicing
its accounts). docs/MODEL.md, "Settlement and fees" and "Interest, cards and
accounts", gives the equations.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sim.scenarios.catalog import ALIPAY, BANK_APP, CARD, WECHAT
from sim.scenarios.schema import Bank as BankParams

__all__ = ["Acquiring", "Bank"]


@dataclass(frozen=True)
class Acquiring:
    """One day's acquiring economics per payee, yuan (0 for payees the bank does not
    acquire).

    Attributes
    ----------
    fee : array (M,)
        The bank's own fee: its rate for the payee times the payee's non-cash
        receipts (what a fee waiver waives).
    pass_through : array (M,)
        Issuer and network fees on card receipts, charged to the merchant on top
        of the bank's fee and paid on (in ``leg_cost`` too).
    leg_cost : array (M,)
        What the bank pays on those receipts: the platform's cut of wallet
        receipts, issuer and network fees of card receipts (none on its own app).
    """

    fee: np.ndarray
    pass_through: np.ndarray
    leg_cost: np.ndarray

    @property
    def income(self) -> np.ndarray:
        """What the merchant pays the bank, yuan: fee + pass-through."""
        return self.fee + self.pass_through

    @property
    def margin(self) -> np.ndarray:
        """Net acquiring margin per payee, yuan: income - leg cost (may be negative)."""
        return self.income - self.leg_cost


class Bank(mesa.Agent):
    """The focal bank (a ``mesa.Agent``).

    Books into the model's ledger: acquiring fees and their leg costs (kind
    ``income`` and ``operating``), net interest on deposits at an annual margin
    spread over 365 days, the margin of its credit cards, and the servicing
    cost of its accounts (``operating``).
    """

    def __init__(self, model: mesa.Model, params: BankParams):
        super().__init__(model)
        self.params = params
        ledger = model.ledger_book
        for cause in ("acquiring_fee", "net_interest_retail", "net_interest_corporate",
                      "card_income"):
            ledger.register(cause, "income")
        for cause in ("acquiring_leg_cost", "account_servicing"):
            ledger.register(cause, "operating")

    def acquiring(self, pay) -> Acquiring:
        """Today's acquiring fee and leg cost of each payee (``pay`` tallied).

        For a payee j the bank acquires, with receipts R_jk on channel k today:
        fee_j = f_j * sum over k != cash of R_jk + l_c R_j,card (f_j its fee
        rate, usually ``acquiring_fee_rate``), and leg_j = l_w (R_j,wechat +
        R_j,alipay) + l_c R_j,card (``wallet_leg_cost_rate``,
        ``card_leg_cost_rate``). On cards the issuer's and the network's fees
        are passed through to the merchant on top of the bank's own rate (the
        2016 card-fee reform priced the acquirer's service fee on top of the
        capped interchange), so they are in both ``fee`` and ``leg_cost``; on
        wallets the bank's rate is all the merchant pays and the platform's cut
        comes out of it. A strategy that waives a share of the bank's fee forgoes
        that share of ``fee`` (not of the pass-through); the leg cost stays the
        bank's.
        """
        book = self.model.merchants
        on = book.on_bank()
        r = pay.channel_receipts
        # Column sums written out, not ``r @ rates``: a BLAS call here leaves
        # OpenBLAS threads spinning on the core the kernels' second part needs.
        p = self.params
        noncash = r[:, BANK_APP] + r[:, WECHAT] + r[:, ALIPAY] + r[:, CARD]
        fee = np.where(on, book.bank_fee_rate * noncash, 0.0)
        card_fees = np.where(on, p.card_leg_cost_rate * r[:, CARD], 0.0)
        wallet_leg = np.where(on, p.wallet_leg_cost_rate * (r[:, WECHAT] + r[:, ALIPAY]), 0.0)
        return Acquiring(fee, card_fees, wallet_leg + card_fees)

    def settle(self, day: int, pay) -> Acquiring:
        """Settle the day's receipts: book the fees and leg costs, and credit the
        payees' balances (corporate deposits, :meth:`MerchantBook.settle`)."""
        acq = self.acquiring(pay)
        ledger = self.model.ledger_book
        ledger.book(day, "acquiring_fee", float(acq.income.sum()))
        ledger.book(day, "acquiring_leg_cost", -float(acq.leg_cost.sum()))
        self.model.merchants.settle(day, pay.channel_receipts)
        return acq

    def book_balance_sheet(self, day: int, retail: float, corporate: float,
                           credit_cards: int, accounts: int) -> dict[str, float]:
        """Book one day of net interest, card income and account servicing (yuan).

        Returns the day's ``net_interest_income``, ``card_income`` and
        ``account_cost`` (a positive number: the cost booked negative).
        """
        p = self.params
        ledger = self.model.ledger_book
        retail_nii = retail * p.nim_retail_annual / 365.0
        corporate_nii = corporate * p.nim_corporate_annual / 365.0
        cards = credit_cards * p.card_income_per_day_yuan
        servicing = accounts * p.account_cost_yuan_per_year / 365.0
        ledger.book(day, "net_interest_retail", retail_nii)
        ledger.book(day, "net_interest_corporate", corporate_nii)
        ledger.book(day, "card_income", cards)
        ledger.book(day, "account_servicing", -servicing)
        return {"net_interest_income": retail_nii + corporate_nii, "card_income": cards,
                "account_cost": servicing}
