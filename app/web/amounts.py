"""How pages show amounts: the `money` filter and the currency of a form's money fields.

`{{ amount|money(currency) }}` → "1,234.50 EUR": two decimals, thousands separated, the ISO 4217
code after the figure (the app's DEFAULT_CURRENCY when none is given); "—" for no amount.
`form_currency()` is the currency a form's money fields are in (`g.form_currency`, set by the
view that shows the form for a ticket or a customer), else DEFAULT_CURRENCY.
"""

from decimal import Decimal, InvalidOperation

from flask import Flask, current_app, g

NO_AMOUNT = "—"


def money(value, currency: str | None = None) -> str:
    """An amount with two decimals and its currency code."""
    if value is None or isinstance(value, bool):
        return NO_AMOUNT
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    code = (currency or current_app.config.get("DEFAULT_CURRENCY") or "EUR").upper()
    return f"{amount:,.2f} {code}"


def form_currency() -> str:
    """The currency of the money fields of the form being shown."""
    return g.get("form_currency") or current_app.config.get("DEFAULT_CURRENCY") or "EUR"


def init_app(app: Flask) -> None:
    """Register the filters and globals on the app's Jinja environment."""
    app.add_template_filter(money, "money")
    app.add_template_global(form_currency, "form_currency")
