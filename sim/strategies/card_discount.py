"""A card discount at partner payees: the ETC credit-card fuel discount (ETC 信用卡加油优惠).

On ``start_day`` the bank signs the ``stations`` largest payees of an open
chain whose own terminals take cards (the fuel stations of ``transport``; the
card side of the bank's aggregated QR does not count, so the partners do not
depend on what another lever does that morning) as partners, as many
as the budget pays ``station_cost_yuan`` for (event ``signed``; its detail says
when fewer were signed than asked, and why); they keep their acquirer and
their acceptance. While the offer runs (its window, until its budget is
spent), a holder of the bank's credit card who pays a partner by card gets
``rate`` of the amount off, up to ``per_user_cap_yuan`` per ``period_days``
(the model's card channel is any bank's card: a holder of the bank's card
paying by card at a partner is taken to pay with it):

1. the saving lowers the price of the card at the partners for the bank's
   cardholders whose cap has room (d = ``rate`` on the card in the channel
   logit; ``saving_channel`` is the card);
2. the discount is paid on their card payments there, min(rate x amount, cap
   left), shared among a payer's payments of the day when it binds;
3. it pulls credit cards: an account holder who pays in the chain and has no
   credit card takes the bank's with extra probability per day
   ``promotion_response_per_yuan x V_i`` (scenario key
   ``adoption.promotion_response_per_yuan``, the promotions' response), where
   V_i = min(rate x S_i, cap) x 30 / P is the yuan per 30 days the card would
   save them and S_i their expected spend at the partners per period P:
   P x (r_c rel_s + b_c) x w x mean amount, with r_c the chain's everyday rate,
   rel_s the segment's activity, b_c its bill rate and w the partners' share of
   the chain's traffic. Each card costs ``card_cost_yuan`` (issuing it and the
   ETC device), paid from the budget; no card is issued that the budget cannot pay.
   The cards issued are recorded on the day (``issued``, real customers).

A card discount needs a real purchase at the partner: a bonus hunter gets it
like anyone, on what they really buy, and farms nothing. The bank's card income
is per card (``bank.card_income_per_day_yuan``): the discount earns the bank
the cards it brings; the spending it moves onto cards earns nothing more in the
model (interchange is not represented). Amounts are the chain's (transport: 12
yuan on average, not a tank of fuel); the pull and the discounts paid both grow
in proportion to the amount while the cap does not bind.
"""

from __future__ import annotations

import numpy as np

from sim.config import NON_NEGATIVE, Interval
from sim.scenarios.catalog import CARD, CHAINS
from sim.strategies.base import register
from sim.strategies.campaign import Campaign, within_cap
from sim.strategies.params import CHAIN, PROB, REQUIRED, Param
from sim.strategies.promotion_value import MONTH_DAYS, bill_rate

__all__ = ["CardDiscount"]


@register
class CardDiscount(Campaign):
    kind = "card_discount"
    chain_kind = "open"
    saving_channel = CARD
    payee_count_params = {"stations": "chain"}
    parameters = {
        "chain": Param(str, CHAIN, "transport", "open chain of the partners (fuel stations)"),
        "stations": Param(int, Interval(1, None), REQUIRED, "partner payees, largest first"),
        "station_cost_yuan": Param(float, NON_NEGATIVE, 10_000.0,
                                   "one-off agreement, terminal and signage per partner"),
        "rate": Param(float, PROB, 0.05, "fraction of a card payment at a partner given back"),
        "per_user_cap_yuan": Param(float, NON_NEGATIVE, 50.0,
                                   "discount cap per cardholder per period"),
        "period_days": Param(int, Interval(1, None), 30, "length of a cap period"),
        "card_cost_yuan": Param(float, NON_NEGATIVE, 100.0,
                                "issuing a credit card and its ETC device"),
    }

    def attach(self, model, label: str) -> None:
        super().attach(model, label)
        n = model.customers.n
        self.chain_index_ = CHAINS.index(self.chain)
        self.partner_ = np.zeros(model.merchants.n, bool)
        self.claimed_ = np.zeros(n)       # yuan given to each cardholder this period
        self.value_ = np.zeros(n)         # V_i, yuan per 30 days; set on start_day
        self.members_ = model.customers.members[self.chain_index_].customers
        self.issued_ = 0                  # simulated customers the offer gave a card

    def before_payments(self, day: int) -> None:
        if day == self.start_day:
            self._sign_partners(day)
        if not self.running(day):
            return
        if (day - self.start_day) % self.period_days == 0:
            self.claimed_[:] = 0.0
        self._issue_cards(day)

    def saving(self, day: int, payments) -> np.ndarray | None:
        if not self.running(day):
            return None
        ok = self.eligible_events(payments)
        if not ok.any():
            return None
        return np.where(ok, np.float32(self.rate), np.float32(0.0))

    def after_payments(self, day: int, payments) -> None:
        if not self.running(day):
            return
        idx = np.flatnonzero(self.eligible_events(payments) & (payments.channel == CARD))
        self.forget_events()
        if idx.size == 0:
            return
        payer = payments.payer[idx]
        amount = within_cap(payer, self.rate * payments.amount[idx],
                            self.per_user_cap_yuan - self.claimed_[payer])
        paid = self.afford(amount * self.scale, day)
        payer, amount = payer[paid], amount[paid]
        self.spend(day, "discounts", float(amount.sum()) * self.scale)
        np.add.at(self.claimed_, payer, amount)
        self.end_if_spent(day)

    @property
    def cards_issued(self) -> int:
        """Credit cards the offer brought so far, at the city's scale (real customers)."""
        return round(self.issued_ * self.scale)

    # ---------------------------------------------------------------- helpers
    def _sign_partners(self, day: int) -> None:
        """The largest payees of the chain that take cards, as many as the budget pays
        for, become partners; each payer's worth of the offer V_i follows from their
        share of the chain's traffic."""
        book = self.model_.merchants
        ids = self.largest_payees(self.chain_index_, self.stations, book.accepts_base[:, CARD])
        paid = self.affordable(self.station_cost_yuan, ids.size)
        why = ([f"{ids.size} of the chain take cards"] if ids.size < self.stations else []) + (
            ["the budget paid for no more"] if paid < ids.size else [])
        ids = ids[:paid]
        self.spend(day, "stations", ids.size * self.station_cost_yuan)
        self.partner_[ids] = True
        self.event(day, "signed", ids.size,
                   f"{ids.size} of {self.stations}: " + "; ".join(why) if why else "")
        self.value_ = self._value(ids) if ids.size else self.value_

    def _value(self, partners: np.ndarray) -> np.ndarray:
        """V_i (yuan per 30 days, float64, N) for the chain's payers; 0 for the others."""
        model, c = self.model_, self.chain_index_
        book, pop = model.merchants, model.customers
        chain = model.params.chains[self.chain]
        lo, hi = book.chain_start[c], book.chain_start[c + 1]
        share = float(book.weight[partners].sum() / book.weight[lo:hi].sum())
        ids = self.members_
        P = self.period_days
        spend = P * share * (chain.rate_per_day * pop.activity[pop.segment[ids]]
                             * chain.amount_mean_yuan
                             + bill_rate(chain.bill) * chain.bill.amount_mean_yuan)
        value = np.zeros(pop.n)
        value[ids] = np.minimum(self.rate * spend, self.per_user_cap_yuan) * (MONTH_DAYS / P)
        return value

    def _issue_cards(self, day: int) -> None:
        """Account holders of the chain without a credit card take the bank's with
        probability response x V_i today (one uniform per payer of the chain), as
        long as the budget pays for the card."""
        pop = self.model_.customers
        ids = self.members_
        response = self.model_.params.adoption.promotion_response_per_yuan
        u = self.stream(day).random(ids.size)
        new = ids[pop.has_account[ids] & ~pop.has_credit[ids]
                  & (u < response * self.value_[ids])]
        cost = self.card_cost_yuan * self.scale
        issued = self.affordable(cost, new.size)
        if issued < new.size:
            self.note_exhausted(day)
        new = new[:issued]
        self.spend(day, "cards", new.size * cost)
        pop.has_credit[new] = True
        self.issued_ += int(new.size)
        if new.size:
            self.event(day, "issued", round(new.size * self.scale))
        self.end_if_spent(day)

    def compute_eligible(self, payments) -> np.ndarray:
        """Events at a partner by a holder of the bank's credit card with cap room."""
        payer_ok = self.model_.customers.has_credit & (self.claimed_ < self.per_user_cap_yuan)
        return self.partner_[payments.payee] & payer_ok[payments.payer]
