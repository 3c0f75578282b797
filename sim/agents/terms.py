"""Terms: what a strategy agrees with payees, each with an owner and an end.

The merchant book holds one table of terms (``book.terms``). A payee holds at
most one term of each kind; a term has an owner (the id :meth:`Terms.register`
hands a strategy, never a list index) and an end day ``until`` (it holds on
days ``< until``):

- ``offer``: an open offer of a fee waiver (``offer_rate`` of the bank's fee
  until ``until``) plus a one-off ``offer_subsidy`` in yuan, weighed at the
  payee's acquirer review; accepting it consumes it;
- ``waiver``: share ``waiver_rate`` of the bank's fee waived;
- ``lock``: the payee cannot leave the bank (contract or accepted offer);
- ``exclusive``: the payee accepts only the bank app.

Terms are created and ended only through the verbs below: ``offer``,
``accept`` (the review's joiners), ``sign``, ``end`` (which withdraws offers
and ends the rest) and ``expire`` (the review's daily pass), and every verb
records what it did through the owner's event recorder (vocabulary in
:mod:`sim.events`). When a strategy's window closes or its budget runs out it
calls :meth:`Terms.end`, so no term outlives its owner.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["Terms", "OFFER", "WAIVER", "LOCK", "EXCLUSIVE", "KINDS", "NOBODY"]

OFFER, WAIVER, LOCK, EXCLUSIVE = range(4)
KINDS = ("offer", "waiver", "lock", "exclusive")
CONTRACT = (WAIVER, LOCK, EXCLUSIVE)  # the kinds a payee is bound by once it agreed
EVERY = (OFFER, *CONTRACT)
NOBODY = -1

Recorder = Callable[[int, str, int, str], None]  # (day, event, count, detail)


class Terms:
    """Every strategy term of ``n`` payees, as arrays (kind x payee).

    Attributes
    ----------
    owner : int32 array (4, n)
        Owner id of each kind of term per payee, ``NOBODY`` if none.
    until : int32 array (4, n)
        First day on which the term no longer holds.
    offer_rate, offer_subsidy : float arrays (n,)
        The open offer's waiver share and one-off subsidy (yuan).
    waiver_rate : float array (n,)
        Share of the bank's fee waived under a waiver term.
    reinstated : float array (n,)
        Share of the fee reinstated since the payee's last review (a waiver
        ended); the review reads and clears it.
    last_owner : int32 array (n,)
        Owner whose terms the payee last agreed to; a payee that leaves the
        bank is reported to it as ``left``.
    """

    def __init__(self, n: int):
        self.owner = np.full((len(KINDS), n), NOBODY, np.int32)
        self.until = np.zeros((len(KINDS), n), np.int32)
        self.offer_rate = np.zeros(n)
        self.offer_subsidy = np.zeros(n)
        self.waiver_rate = np.zeros(n)
        self.reinstated = np.zeros(n)
        self.last_owner = np.full(n, NOBODY, np.int32)
        self._recorders: list[Recorder] = []

    # ------------------------------------------------------------- owners
    def register(self, record: Recorder) -> int:
        """A new owner; ``record(day, event, count, detail)`` receives its events.
        Returns its id, stable for the run."""
        self._recorders.append(record)
        return len(self._recorders) - 1

    def _record(self, owners: np.ndarray, day: int, event: str, detail: str = "") -> None:
        """Record ``event`` for each owner in ``owners`` (one entry per payee)."""
        if owners.size == 0:
            return
        counts = np.bincount(owners, minlength=len(self._recorders))
        for owner in np.flatnonzero(counts):
            self._recorders[owner](day, event, int(counts[owner]), detail)

    # ------------------------------------------------------------- queries
    def held(self, kind: int, day: int, owner: int | None = None) -> np.ndarray:
        """Payees under a term of ``kind`` on ``day`` (of ``owner`` only, if given)."""
        mine = self.owner[kind] != NOBODY if owner is None else self.owner[kind] == owner
        return mine & (day < self.until[kind])

    def owned(self, kind: int, owner: int) -> np.ndarray:
        """Payees under a term of ``kind`` by ``owner`` that has not ended yet
        (possibly at its end day, before :meth:`expire` runs)."""
        return self.owner[kind] == owner

    def waived_share(self, day: int, owner: int | None = None) -> np.ndarray:
        """Share of the bank's fee waived for each payee on ``day``."""
        return np.where(self.held(WAIVER, day, owner), self.waiver_rate, 0.0)

    # ------------------------------------------------------------- verbs
    def offer(self, owner: int, ids: np.ndarray, day: int, rate: float, until: int,
              subsidy: float) -> None:
        """Offer ``ids`` a waiver of ``rate`` until ``until`` and ``subsidy`` yuan."""
        self.owner[OFFER, ids] = owner
        self.until[OFFER, ids] = until
        self.offer_rate[ids] = rate
        self.offer_subsidy[ids] = subsidy
        self._record(np.full(ids.size, owner), day, "offered")

    def accept(self, ids: np.ndarray, day: int) -> None:
        """Payees ``ids`` joined the bank: an open offer is consumed and becomes a
        waiver and a lock-in until the offer's end (recorded ``joined``)."""
        ids = ids[self.held(OFFER, day)[ids]]
        owners = self.owner[OFFER, ids]
        until = self.until[OFFER, ids]
        for kind in (WAIVER, LOCK):
            self.owner[kind, ids] = owners
            self.until[kind, ids] = until
        self.waiver_rate[ids] = self.offer_rate[ids]
        self.last_owner[ids] = owners
        self.owner[OFFER, ids] = NOBODY
        self._record(owners, day, "joined")

    def sign(self, owner: int, ids: np.ndarray, day: int, until: int,
             exclusive: bool = False) -> None:
        """Contracts: ``ids`` are locked in (and accept only the bank app if
        ``exclusive``) until ``until`` (recorded ``signed``)."""
        for kind in (LOCK, EXCLUSIVE) if exclusive else (LOCK,):
            self.owner[kind, ids] = owner
            self.until[kind, ids] = until
        self.last_owner[ids] = owner
        self._record(np.full(ids.size, owner), day, "signed")

    def end(self, owner: int, day: int, why: str, kinds: Sequence[int] = EVERY,
            ids: np.ndarray | None = None, event: str = "ended") -> None:
        """End ``owner``'s terms of ``kinds`` (of all its payees, or of ``ids``).

        Records ``event`` (detail ``why``) once with the number of payees
        whose terms ended; ending offers records ``withdrawn`` instead.
        """
        scope = np.ones(self.owner.shape[1], bool)
        if ids is not None:
            scope[:] = False
            scope[ids] = True
        ending = [(k, np.flatnonzero(scope & (self.owner[k] == owner))) for k in kinds]
        self._clear(ending)
        offers = [i for k, i in ending if k == OFFER]
        bound = [i for k, i in ending if k != OFFER]
        for payees, name in ((offers, "withdrawn"), (bound, event)):
            n = np.unique(np.concatenate(payees)).size if payees else 0
            if n:
                self._recorders[owner](day, name, n, "" if name == "withdrawn" else why)

    def expire(self, day: int) -> None:
        """End the terms whose end day has come: offers are ``withdrawn``, the
        rest ``ended`` with detail ``lock-in`` (one entry per owner)."""
        due = (self.owner != NOBODY) & (self.until <= day)
        if not due.any():
            return
        ending = [(k, np.flatnonzero(due[k])) for k in range(len(KINDS))]
        owners = self.owner.copy()
        self._clear(ending)
        self._record(owners[OFFER, ending[OFFER][1]], day, "withdrawn")
        contract = list(CONTRACT)
        bound = np.flatnonzero(due[contract].any(axis=0))
        whose = np.where(due[contract][:, bound], owners[contract][:, bound], NOBODY)
        self._record(whose.max(axis=0), day, "ended", "lock-in")

    def left(self, ids: np.ndarray, day: int) -> None:
        """Payees ``ids`` left the bank: report them as ``left`` to the owner whose
        terms they last agreed to, then forget it."""
        ids = ids[self.last_owner[ids] != NOBODY]
        self._record(self.last_owner[ids], day, "left")
        self.last_owner[ids] = NOBODY

    def _clear(self, ending: list[tuple[int, np.ndarray]]) -> None:
        """Remove terms (kind, payee ids); an ended waiver's share is reinstated."""
        for kind, ids in ending:
            if kind == WAIVER:
                self.reinstated[ids] += self.waiver_rate[ids]
                self.waiver_rate[ids] = 0.0
            elif kind == OFFER:
                self.offer_rate[ids] = 0.0
                self.offer_subsidy[ids] = 0.0
            self.owner[kind, ids] = NOBODY
