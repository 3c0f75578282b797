"""Fixed vocabularies: the 3 scenario categories, the 12 ecosystem chains,
the 5 payment channels and the 4 kinds of acquirer.

The chains and categories are the ecosystem map of the seed article
(../shared/DOMAIN.md); their ids are a contract used by scenarios, strategies
and experiments.
"""

from __future__ import annotations

__all__ = [
    "CATEGORIES",
    "CHAINS",
    "CHAIN_CATEGORY",
    "CHANNELS",
    "BANK_APP",
    "WECHAT",
    "ALIPAY",
    "CARD",
    "CASH",
    "ACQUIRERS",
    "ACQ_BANK",
    "ACQ_WECHAT",
    "ACQ_ALIPAY",
    "ACQ_OTHER",
    "chain_index",
]

CATEGORIES: dict[str, tuple[str, ...]] = {
    "government_livelihood": ("smart_government", "education", "healthcare", "utilities"),
    "consumer_retail": ("property", "transport", "business_district", "tourism", "real_estate"),
    "industry_chain": ("wholesale_market", "supply_chain", "upstream_downstream"),
}

CHAINS: tuple[str, ...] = tuple(c for chains in CATEGORIES.values() for c in chains)
CHAIN_CATEGORY: dict[str, str] = {c: cat for cat, chains in CATEGORIES.items() for c in chains}

# Payment channels a customer can choose; the index is the column in every
# per-channel array (habit stock, acceptance, volume).
CHANNELS: tuple[str, ...] = ("bank_app", "wechat", "alipay", "card", "cash")
BANK_APP, WECHAT, ALIPAY, CARD, CASH = range(5)

# Who acquires (settles) a payee's receipts: the focal bank, the two payment
# platforms, or any other bank / UnionPay acquirer.
ACQUIRERS: tuple[str, ...] = ("bank", "wechat_pay", "alipay", "other")
ACQ_BANK, ACQ_WECHAT, ACQ_ALIPAY, ACQ_OTHER = range(4)


def chain_index(chain: str, field: str = "chain") -> int:
    """Position of ``chain`` in :data:`CHAINS`; ConfigError naming ``field`` if unknown."""
    from sim.config import ConfigError, Options

    if chain not in CHAINS:
        raise ConfigError(field, chain, Options(CHAINS).describe())
    return CHAINS.index(chain)
