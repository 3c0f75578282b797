"""Strategy levers the bank can pull; one module per lever, one shared interface.

Build them as typed classes (``FeeWaiver(chain="business_district", ...)``)
or from TOML-like dicts (``{"kind": "fee_waiver", ...}``) through
:func:`make_strategies`. See :mod:`sim.strategies.base` for the life cycle.
"""

from sim.strategies.base import STRATEGY_KINDS, Strategy, labels_for, make_strategies

__all__ = ["Strategy", "STRATEGY_KINDS", "make_strategies", "labels_for"]
