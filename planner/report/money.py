"""Money formatting in the currency the user asked for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Money:
    """Converts USD figures for display; CNY uses the catalog's dated rate."""

    currency: str = "USD"
    fx_cny_per_usd: float | None = None

    def convert(self, usd: float) -> float:
        if self.currency == "CNY":
            if self.fx_cny_per_usd is None:
                raise ValueError("no CNY/USD rate in the catalog")
            return usd * self.fx_cny_per_usd
        return usd

    def short(self, usd: float) -> str:
        """12.3 M USD style, for tables."""
        v = self.convert(usd)
        sign = "-" if v < 0 else ""
        v = abs(v)
        if v >= 1e9:
            text = f"{v / 1e9:.2f} B"
        elif v >= 1e6:
            text = f"{v / 1e6:.2f} M"
        elif v >= 1e3:
            text = f"{v / 1e3:.1f} k"
        elif v == 0:
            return "-"
        else:
            text = f"{v:.0f}"
        return f"{sign}{text}"

    def full(self, usd: float) -> str:
        return f"{self.convert(usd):,.0f} {self.currency}"
