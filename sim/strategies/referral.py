"""Referral rewards: app users invite friends over their social ties.

While active, each monthly-active app user in the targeted segments who has
not reached ``cap_per_referrer`` successful referrals invites one contact a
day with probability ``invite_rate_per_day`` (a uniformly chosen social
contact; anyone, in a fully mixed population). An invitee without the app
accepts with probability ``accept_prob`` (bonus hunters always); the
referee's claim then passes the active risk controls BEFORE the install: a
refused invitee came for the incentive, so they neither install nor open an
account, neither party is rewarded, and they are not rewarded later either
(a genuine one counts in ``claims_refused_genuine``). An approved invitee
opens an account if needed and installs the app; the referrer earns
``reward_referrer_yuan`` and the invitee ``reward_referee_yuan``, while the
budget lasts (the campaign ends when a reward finds it spent). Bonus hunters
take the referee reward (an abuse loss) and abandon the app. Invitations
spread hop by hop, since new users invite in turn.
"""

from __future__ import annotations

import numpy as np

from sim.config import NON_NEGATIVE, Interval
from sim.metrics import MAU_WINDOW_DAYS
from sim.strategies.base import register
from sim.strategies.campaign import Campaign
from sim.strategies.params import PROB, Param

__all__ = ["Referral"]


@register
class Referral(Campaign):
    kind = "referral"
    parameters = {
        "reward_referrer_yuan": Param(float, NON_NEGATIVE, 20.0, "paid per successful invite"),
        "reward_referee_yuan": Param(float, NON_NEGATIVE, 20.0, "paid to the new user"),
        "cap_per_referrer": Param(int, Interval(0, None), 5, "rewarded invites per referrer"),
        "invite_rate_per_day": Param(float, PROB, 0.02, "P(an eligible user invites today)"),
        "accept_prob": Param(float, PROB, 0.15, "P(an invited non-user installs)"),
        "segments": Param(list, None, None, "segments whose users may refer (default all)"),
    }

    def attach(self, model, label: str) -> None:
        super().attach(model, label)
        self.eligible_ = self.segment_mask()
        self.referrals_ = np.zeros(model.customers.n, np.int32)
        self.refused_ = np.zeros(model.customers.n, bool)  # invitees refused by risk control

    def before_payments(self, day: int) -> None:
        if not self.running(day):
            return
        model = self.model_
        pop = model.customers
        rng = self.stream(day)
        can = (self.eligible_ & pop.app_active(day - 1, MAU_WINDOW_DAYS)
               & (self.referrals_ < self.cap_per_referrer))
        inviters = np.flatnonzero(can & (rng.random(pop.n) < self.invite_rate_per_day))
        if inviters.size == 0:
            return
        invitees = self._contact_of(inviters, rng)
        ok = (invitees >= 0)
        ok[ok] &= ~pop.has_app[invitees[ok]] & ~self.refused_[invitees[ok]]
        inviters, invitees = inviters[ok], invitees[ok]
        abuser = pop.abuser[invitees]
        accept = abuser | (rng.random(invitees.size) < self.accept_prob)
        inviters, invitees, abuser = inviters[accept], invitees[accept], abuser[accept]
        _, first = np.unique(invitees, return_index=True)  # one referrer per new user
        inviters, invitees, abuser = inviters[first], invitees[first], abuser[first]
        reward = self.reward_referrer_yuan + self.reward_referee_yuan
        if reward > 0:
            approved = model.screen_claims(day, abuser)  # the referee's claim, before install
            self.refused_[invitees[~approved]] = True
            inviters, invitees, abuser = inviters[approved], invitees[approved], abuser[approved]
            paid = self.afford(np.full(invitees.size, reward * self.scale), day)
            inviters, invitees, abuser = inviters[paid], invitees[paid], abuser[paid]
        pop.open_accounts(invitees, day, model.params.bank.p_debit_card, rng)
        pop.install_apps(invitees, day)
        pop.abandon_app(invitees[abuser])
        np.add.at(self.referrals_, inviters, 1)
        n_abuse = int(abuser.sum())
        self.spend(day, "reward", (inviters.size * self.reward_referrer_yuan
                                   + (inviters.size - n_abuse) * self.reward_referee_yuan)
                   * self.scale)
        self.spend(day, "abuse", n_abuse * self.reward_referee_yuan * self.scale, kind="abuse")
        self.end_if_spent(day)

    def _contact_of(self, ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One uniformly chosen social contact per id (-1 for someone with none)."""
        adj = self.model_.world.adjacency
        if adj is None:
            return rng.integers(0, self.model_.customers.n, size=ids.size)
        start, stop = adj.indptr[ids], adj.indptr[ids + 1]
        deg = stop - start
        pick = start + (rng.random(ids.size) * deg).astype(np.int64)
        return np.where(deg > 0, adj.indices[np.minimum(pick, adj.indices.size - 1)], -1)
