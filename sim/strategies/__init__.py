"""Strategy levers the bank can pull; one module per lever, one shared interface.

Build them as typed classes (``FeeWaiver(chain="business_district", merchants=300,
start_day=10, duration_days=90, budget=2e6)``) or from TOML-like dicts
(``{"kind": "fee_waiver", ...}``) through :func:`make_strategies`. See
:mod:`sim.strategies.base` for the life cycle.
"""

from sim.strategies.aggregated_qr import AggregatedQR
from sim.strategies.app_mall import AppMall
from sim.strategies.app_services import AppServices
from sim.strategies.auto_debit import AutoDebit
from sim.strategies.base import (
    STRATEGY_KINDS,
    Strategy,
    labels_for,
    make_strategies,
    stream_names_for,
)
from sim.strategies.card_discount import CardDiscount
from sim.strategies.escrow import PresaleEscrow
from sim.strategies.exclusive import ExclusiveChannel
from sim.strategies.fee_waiver import FeeWaiver
from sim.strategies.omnichannel import Omnichannel
from sim.strategies.promotion import PROMOTION_TYPES, Promotion
from sim.strategies.referral import Referral
from sim.strategies.risk_control import RiskControl
from sim.strategies.targeting import Targeting

__all__ = ["Strategy", "STRATEGY_KINDS", "make_strategies", "labels_for",
           "stream_names_for", "ExclusiveChannel",
           "FeeWaiver", "Promotion", "PROMOTION_TYPES", "Referral", "AggregatedQR",
           "Omnichannel", "RiskControl", "Targeting", "AutoDebit", "PresaleEscrow",
           "AppMall", "CardDiscount", "AppServices"]
