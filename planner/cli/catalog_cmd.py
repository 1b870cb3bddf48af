"""``plan catalog list | show | validate``: browse and check the catalog of record.

Thin like every command: loads through the public API, renders, sets the exit code
(0 ok, 2 invalid input). Money is shown as recorded unless ``--currency`` asks for USD or CNY,
converted at the catalog's dated rate (the rate and its date are printed with it).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from planner.cli.app import app, configure_logging, err_console, guarded

catalog_app = typer.Typer(
    help="Browse, show and validate the catalog of record (every figure sourced and dated).",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(catalog_app, name="catalog")

KINDS = ("accelerators", "offers", "sites", "policies", "models", "stacks")

CatalogOpt = Annotated[
    list[Path] | None,
    typer.Option("--catalog", "-c", help="Extra catalog file (your own quotes, overrides); repeatable."),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Show the catalog as of this date (YYYY-MM-DD): availability, prices, policies."),
]
CurrencyOpt = Annotated[
    str | None,
    typer.Option("--currency", help="Show prices in USD or CNY (default: as recorded)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def _check_currency(currency: str | None) -> None:
    if currency is not None and currency not in ("USD", "CNY"):
        raise typer.BadParameter("use USD or CNY", param_hint="--currency")


def _load(catalog: list[Path] | None, as_of: str | None) -> Any:
    import planner

    return planner.load_catalog(list(catalog or []), as_of=as_of)


# ---- formatting -------------------------------------------------------------------------


def _num(value: float | None, per: str | None = None) -> str:
    if value is None:
        return "null"
    if per == "kWh":
        return f"{value:.4f}"
    if per == "device-hour":
        return f"{value:,.2f}"
    if value == int(value) or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _money(cat: Any, value: float | None, currency: str, per: str, want: str | None) -> str:
    """'1,400,000 CNY/unit (198,441 USD)' when converting; as recorded otherwise."""
    if value is None:
        return f"null {currency}/{per}"
    shown = f"{_num(value, per)} {currency}/{per}"
    if want is None or want == currency:
        return shown
    converted = cat.convert(value, currency, want)
    return f"{_num(converted, per)} {want}/{per} ({shown})"


def _fig(cat: Any, fig: Any, want: str | None) -> str:
    currency = getattr(fig, "currency", None)
    if currency is not None:
        return _money(cat, fig.value, currency, fig.per, want)
    return _num(fig.value)


def _alt(cat: Any, fig: Any, alt: Any, want: str | None) -> str:
    currency = getattr(fig, "currency", None)
    if currency is not None:
        return _money(cat, alt.value, currency, fig.per, want)
    return _num(alt.value)


def _fx_line(cat: Any) -> str:
    fx = cat.fx_cny_per_usd
    if fx is None or fx.value is None:
        return "FX: no CNY/USD rate in the catalog"
    return f"FX: {fx.value} CNY per USD ({fx.date}, {fx.confidence}; {fx.source})"


def _peak(acc: Any, p: str) -> str:
    fig = acc.dense_tflops.get(p)
    return "-" if fig is None else _num(fig.value)


def _val(fig: Any) -> str:
    return "-" if fig is None else _num(fig.value)


# ---- list -------------------------------------------------------------------------------


def _rows(cat: Any, kind: str, want: str | None) -> tuple[list[str], list[list[str]]]:
    entries = getattr(cat, kind)
    if kind == "accelerators":
        head = ["id", "vendor", "origin", "status", "from", "mem GB", "BW TB/s"]
        head += ["bf16", "fp8", "int8", "TDP W", "stack"]
        rows = [
            [
                a.id,
                a.vendor,
                a.origin,
                a.status,
                a.available_from or "-",
                _val(a.memory_gb),
                _val(a.memory_bw_tbps),
                _peak(a, "bf16"),
                _peak(a, "fp8"),
                _peak(a, "int8"),
                _val(a.tdp_w),
                a.software_stack,
            ]
            for a in entries.values()
        ]
    elif kind == "offers":
        head = ["id", "accelerator", "mode", "where", "unit", "price", "confidence", "date"]
        rows = [
            [
                o.id,
                o.accelerator,
                o.mode,
                f"{o.location} {o.site or o.region}",
                f"{o.unit.kind} x{o.unit.devices}",
                _fig(cat, o.price, want),
                o.price.confidence,
                o.price.date,
            ]
            for o in entries.values()
        ]
    elif kind == "sites":
        head = ["id", "location", "region", "power kW", "PUE", "electricity", "date"]
        rows = [
            [
                s.id,
                s.location,
                s.region,
                _val(s.power_kw),
                _val(s.pue),
                _fig(cat, s.electricity_price, want) if s.electricity_price else "-",
                s.electricity_price.date if s.electricity_price else "-",
            ]
            for s in entries.values()
        ]
    elif kind == "policies":
        head = ["id", "date", "in effect", "default", "rules", "name"]
        rows = [
            [
                p.id,
                p.date,
                f"{p.effective_from or '...'} to {p.effective_until or '...'}",
                "yes" if p.default else "no",
                ", ".join(r.kind for r in p.rules),
                p.name,
            ]
            for p in entries.values()
        ]
    elif kind == "models":
        head = ["id", "name", "params B", "active B", "layers", "attention"]
        rows = [
            [m.id, m.name, _num(m.arch.params_b), _num(m.arch.active_b), str(m.arch.layers), m.arch.attention]
            for m in entries.values()
        ]
    else:
        head = ["id", "name", "train MFU", "prefill", "decode BW"]
        rows = [
            [s.id, s.name, _val(s.efficiency.train_mfu), _val(s.efficiency.prefill), _val(s.efficiency.decode_bw)]
            for s in entries.values()
        ]
    if cat.as_of is not None and kind in ("accelerators", "offers", "policies"):
        head.append(f"as of {cat.as_of}")
        for row, ident in zip(rows, entries, strict=True):
            row.append(cat.unavailable.get(f"{kind}/{ident}", "ok"))
    return head, rows


def _entry_json(cat: Any, kind: str, entry: BaseModel, want: str | None) -> dict[str, Any]:
    data: dict[str, Any] = entry.model_dump(mode="json")
    if cat.as_of is not None:
        data["available_as_of"] = f"{kind}/{entry.id}" not in cat.unavailable  # type: ignore[attr-defined]
    price = getattr(entry, "price", None) if kind == "offers" else getattr(entry, "electricity_price", None)
    if want is not None and price is not None and price.value is not None:
        data["price_in"] = {"value": cat.convert(price.value, price.currency, want), "currency": want, "per": price.per}
    return data


@catalog_app.command("list")
def list_cmd(
    kind: Annotated[
        str | None, typer.Option("--kind", "-k", help="accelerators | offers | sites | policies | models | stacks")
    ] = None,
    json_out: JsonOpt = False,
    currency: CurrencyOpt = None,
    catalog: CatalogOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """List catalog entries (all kinds, or one with --kind)."""
    configure_logging(False)
    _check_currency(currency)
    if kind is not None and kind not in KINDS:
        raise typer.BadParameter(f"use one of: {', '.join(KINDS)}", param_hint="--kind")

    def body() -> None:
        cat = _load(catalog, as_of)
        kinds = [kind] if kind else list(KINDS)
        if json_out:
            fx = cat.fx_cny_per_usd
            out: dict[str, Any] = {
                "as_of": cat.as_of.isoformat() if cat.as_of else None,
                "currency": currency,
                "fx_cny_per_usd": fx.model_dump(mode="json") if fx is not None else None,
            }
            for k in kinds:
                out[k] = [_entry_json(cat, k, e, currency) for e in getattr(cat, k).values()]
            typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
            return
        console = _console()
        for k in kinds:
            head, rows = _rows(cat, k, currency)
            table = Table(title=f"{k} ({len(rows)})", title_justify="left")
            for h in head:
                table.add_column(h, overflow="fold")
            for row in rows:
                table.add_row(*row)
            console.print(table)
        if any(k in ("offers", "sites") for k in kinds):
            console.print(_fx_line(cat), markup=False)

    guarded(body)


# ---- show -------------------------------------------------------------------------------


def _find(cat: Any, ident: str) -> list[tuple[str, str]]:
    found = []
    for k in KINDS:
        canon = cat.resolve(k, ident)
        if canon is not None:
            found.append((k, canon))
    return found


def _plain_fields(entry: BaseModel) -> list[tuple[str, str]]:
    """The entry's descriptive (non-figure) fields, for the header."""
    from planner.models.base import Sourced

    out = []
    for name in type(entry).model_fields:
        value = getattr(entry, name)
        if value is None or value == [] or isinstance(value, Sourced) or name == "id":
            continue
        if isinstance(value, BaseModel):
            dumped = value.model_dump(mode="json").items()
            inner = {k: v for k, v in dumped if not isinstance(v, dict) and v is not None}
            if not inner:
                continue
            text = ", ".join(f"{k}={v}" for k, v in inner.items())
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            text = "; ".join(json.dumps(v.model_dump(mode="json", exclude_none=True)) for v in value)
        else:
            text = str(value)
        out.append((name, text))
    return out


def _figures(entry: BaseModel) -> list[tuple[str, Any]]:
    from planner.models.base import Sourced

    out: list[tuple[str, Any]] = []

    def walk(obj: BaseModel, prefix: str) -> None:
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            path = f"{prefix}.{name}" if prefix else name
            if isinstance(value, Sourced):
                out.append((path, value))
            elif isinstance(value, BaseModel):
                walk(value, path)

    walk(entry, "")
    return out


def _where(cat: Any, kind: str, ident: str) -> str:
    """file:line of the entry, relative to the working directory when it is below it."""
    where: str = cat.where(kind, ident)
    try:
        rel = os.path.relpath(where)
    except ValueError:
        return where
    return where if rel.startswith("..") else rel


def _show_one(console: Console, cat: Any, kind: str, ident: str, want: str | None) -> None:
    entry = getattr(cat, kind)[ident]
    console.print(f"[bold]{kind}/{ident}[/bold]  ({_where(cat, kind, ident)})")
    for name, text in _plain_fields(entry):
        console.print(f"  {name}: {text}", markup=False, soft_wrap=True)
    if cat.as_of is not None:
        why = cat.unavailable.get(f"{kind}/{ident}")
        console.print(f"  as of {cat.as_of}: " + (f"not available ({why})" if why else "available"), markup=False)
    for path, where in cat.overridden.get(f"{kind}/{ident}", []):
        console.print(f"  overridden: {path} ({where})", markup=False)
    figures = _figures(entry)
    if not figures:
        return
    table = Table(title="Figures", title_justify="left", show_lines=False)
    for col in ("field", "value", "confidence", "date"):
        table.add_column(col, no_wrap=True)
    for col in ("source", "note"):
        table.add_column(col, overflow="fold")
    money = False
    for path, fig in figures:
        money = money or hasattr(fig, "currency")
        table.add_row(path, _fig(cat, fig, want), fig.confidence, fig.date, fig.source, fig.note or "")
        for alt in fig.alternatives:
            table.add_row(
                "  alternative", _alt(cat, fig, alt, want), alt.confidence, alt.date, alt.source, alt.note or ""
            )
    console.print(table)
    if money:
        console.print(_fx_line(cat), markup=False)


@catalog_app.command("show")
def show_cmd(
    ident: Annotated[
        str, typer.Argument(metavar="ID", help="Any id or alias: part, offer, site, policy, model, stack.")
    ],
    json_out: JsonOpt = False,
    currency: CurrencyOpt = None,
    catalog: CatalogOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Show one entry: every figure with its source, date, confidence and alternatives."""
    configure_logging(False)
    _check_currency(currency)

    def body() -> None:
        from planner.errors import InputError

        cat = _load(catalog, as_of)
        found = _find(cat, ident)
        if not found:
            containing = [f"{k}/{i}" for k in KINDS for i in getattr(cat, k) if ident.lower() in i]
            hints = [h for h in (cat.suggest(k, ident) for k in KINDS) if h]
            hint: str | None
            if containing:
                hint = "ids containing it: " + ", ".join(containing[:8])
            else:
                hint = f"did you mean '{hints[0]}'?" if hints else None
            raise InputError.single("catalog", f"no entry with id or alias '{ident}'", hint=hint)
        if json_out:
            out = {f"{k}/{i}": _entry_json(cat, k, getattr(cat, k)[i], currency) for k, i in found}
            typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
            return
        console = _console()
        for k, i in found:
            _show_one(console, cat, k, i, currency)

    guarded(body)


# ---- validate ---------------------------------------------------------------------------


@catalog_app.command("validate")
def validate_cmd(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Catalog files to check.")],
    bundled: Annotated[
        bool, typer.Option("--bundled/--standalone", help="Check against the bundled catalog (default) or alone.")
    ] = True,
    strict: Annotated[bool, typer.Option("--strict", help="Treat implausible figures as errors.")] = False,
) -> None:
    """Check catalog files: schema, references, overrides, plausible units.

    Exit 0 when every file is valid; 2 with 'file:line: field' messages when one is not.
    """
    configure_logging(False)
    import planner
    from planner.errors import InputError

    problems: list[str] = []
    for path in files:
        try:
            planner.load_catalog([path], bundled=bundled)
        except InputError as exc:
            problems.extend(p.render() for p in exc.problems)
        else:
            typer.echo(f"ok: {path}")
    if problems:
        for line in problems:
            err_console().print(line, markup=False, soft_wrap=True)
        raise typer.Exit(2)

    def together() -> Any:
        return planner.load_catalog(list(files), bundled=bundled)

    cat = guarded(together)
    named = {p.resolve() for p in files}
    warnings = [w for w in cat.plausibility_warnings() if Path(w.split(":", 1)[0]).resolve() in named]
    for line in warnings:
        err_console().print(("error: " if strict else "warning: ") + line, markup=False, soft_wrap=True)
    if strict and warnings:
        raise typer.Exit(2)
