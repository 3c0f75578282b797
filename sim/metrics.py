"""KPI registry and daily collection into preallocated arrays.

Every KPI has a unit, a label for plots and a kind: ``stock`` (a level at the
end of the day; the horizon value is the last day's) or ``flow`` (an amount
during the day; the horizon value is the sum). Reports read labels and units
from :data:`KPIS`, so adding a KPI here is enough to have it plotted right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["KPI", "KPIS", "KPI_NAMES", "KPI_BY_NAME", "MAU_WINDOW_DAYS", "RETENTION_DAYS",
           "MetricsCollector", "horizon_value"]

MAU_WINDOW_DAYS = 30  # monthly-active = paid with the app in the last 30 days (definition)
RETENTION_DAYS = 90   # retained = acquired at least 90 days ago and monthly-active


@dataclass(frozen=True)
class KPI:
    name: str
    unit: str   # "customers", "yuan", "merchants", "payments"
    label: str
    kind: str   # "stock" or "flow"
    better: str = "higher"  # direction in which a variant beats the baseline


KPIS: tuple[KPI, ...] = (
    KPI("customers", "customers", "Customers", "stock"),
    KPI("app_users", "customers", "App users (installed)", "stock"),
    KPI("app_mau", "customers", "Monthly-active app users", "stock"),
    KPI("app_dau", "customers", "Daily-active app users", "stock"),
    KPI("accounts", "customers", "Focal-bank accounts", "stock"),
    KPI("debit_cards", "customers", "Debit cards", "stock"),
    KPI("credit_cards", "customers", "Credit cards", "stock"),
    KPI("retail_deposits", "yuan", "Retail deposits", "stock"),
    KPI("retail_deposits_new_accounts", "yuan", "Retail deposits in accounts opened since day 0",
        "stock"),
    KPI("corporate_deposits", "yuan", "Corporate deposits", "stock"),
    KPI("merchants_on_bank", "merchants", "Payees acquired by the bank", "stock"),
    KPI("acquired_users", "customers", "App users acquired since day 0", "stock"),
    KPI("acquired_90d_ago", "customers", "Acquired at least 90 days ago", "stock"),
    KPI("retained_90d", "customers", "Acquired 90+ days ago and monthly-active", "stock"),
    KPI("new_accounts", "customers", "New accounts", "flow"),
    KPI("new_app_users", "customers", "New app installs (every path)", "flow"),
    KPI("uninstalls", "customers", "App uninstalls (dormant apps, closed accounts)", "flow",
        better="lower"),
    KPI("closed_accounts", "customers", "Accounts closed (dormant new accounts)", "flow",
        better="lower"),
    KPI("payments", "payments", "Payments", "flow"),
    KPI("fallback_payments", "payments", "Payments at a branch counter (no channel)", "flow",
        better="lower"),
    KPI("volume_bank_app", "yuan", "Volume paid by the bank app", "flow"),
    KPI("volume_wechat", "yuan", "Volume paid by WeChat Pay", "flow"),
    KPI("volume_alipay", "yuan", "Volume paid by Alipay", "flow"),
    KPI("volume_card", "yuan", "Volume paid by card", "flow"),
    KPI("volume_cash", "yuan", "Volume paid in cash", "flow"),
    KPI("volume_bank_acquired", "yuan", "Non-cash receipts of payees the bank acquires", "flow"),
    KPI("fee_income", "yuan", "Acquiring fee income (gross)", "flow"),
    KPI("acquiring_cost", "yuan", "Wallet and card legs of acquired receipts", "flow",
        better="lower"),
    KPI("net_interest_income", "yuan", "Net interest income", "flow"),
    KPI("card_income", "yuan", "Credit-card income", "flow"),
    KPI("account_cost", "yuan", "Cost of servicing accounts", "flow", better="lower"),
    KPI("strategy_spend", "yuan", "Strategy spend", "flow", better="lower"),
    KPI("abuse_loss", "yuan", "Loss to promotion abuse", "flow", better="lower"),
    KPI("claims_refused_genuine", "claims", "Genuine claims refused by risk control", "flow",
        better="lower"),
    KPI("net_contribution", "yuan", "Net contribution", "flow"),
)
KPI_NAMES: tuple[str, ...] = tuple(k.name for k in KPIS)
_KIND = {k.name: k.kind for k in KPIS}
KPI_BY_NAME = {k.name: k for k in KPIS}


def horizon_value(kpis: pd.DataFrame, name: str) -> float:
    """End-of-horizon level for a stock, horizon total for a flow."""
    col = kpis[name]
    return float(col.iloc[-1] if _KIND[name] == "stock" else col.sum())


class MetricsCollector:
    """Preallocated day x KPI array; one row written per simulated day."""

    def __init__(self, capacity_days: int = 366):
        self._values = np.zeros((capacity_days, len(KPIS)))
        self._col = {name: i for i, name in enumerate(KPI_NAMES)}
        self.days = 0

    def record(self, day: int, values: dict[str, float]) -> None:
        """Write day ``day``'s KPI row; every registered KPI must be given."""
        if day >= self._values.shape[0]:
            grow = max(day + 1, 2 * self._values.shape[0]) - self._values.shape[0]
            self._values = np.vstack([self._values, np.zeros((grow, len(KPIS)))])
        missing = set(self._col) - set(values)
        if missing:
            raise KeyError(f"KPIs not computed on day {day}: {sorted(missing)}")
        self._values[day] = [values[name] for name in KPI_NAMES]
        self.days = max(self.days, day + 1)

    def latest(self, name: str) -> float:
        """KPI ``name`` on the last recorded day (NaN before the first)."""
        return float(self._values[self.days - 1, self._col[name]]) if self.days else float("nan")

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self._values[: self.days].copy(), columns=list(KPI_NAMES))
        df.index = pd.RangeIndex(self.days, name="day")
        return df
