"""The merged catalog: bundled files plus user overlays, cross-checked, with id lookup."""

from __future__ import annotations

import datetime as dt
import difflib
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from planner.catalog.validation_errors import validate_as
from planner.catalog.yaml_reader import YamlDocument, read_yaml
from planner.errors import InputError, InputProblem
from planner.models.catalog import (
    Accelerator,
    CatalogFile,
    FxRate,
    ModelPreset,
    Offer,
    Policy,
    Site,
    SoftwareStack,
)

log = logging.getLogger(__name__)

BUNDLED_DIR = Path(__file__).resolve().parent.parent.parent / "catalogs"
KINDS = ("stacks", "accelerators", "offers", "sites", "policies", "models")


@dataclass
class Origin:
    """Where an entry was defined: file and line, for error messages and provenance."""

    file: str
    line: int | None


@dataclass
class Catalog:
    stacks: dict[str, SoftwareStack] = field(default_factory=dict)
    accelerators: dict[str, Accelerator] = field(default_factory=dict)
    offers: dict[str, Offer] = field(default_factory=dict)
    sites: dict[str, Site] = field(default_factory=dict)
    policies: dict[str, Policy] = field(default_factory=dict)
    models: dict[str, ModelPreset] = field(default_factory=dict)
    fx_cny_per_usd: FxRate | None = None
    origins: dict[tuple[str, str], Origin] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    as_of: dt.date | None = None
    """Set by :func:`planner.catalog.as_of.as_of`: the date the catalog describes (None: as bundled)."""
    unavailable: dict[str, str] = field(default_factory=dict)
    """'kind/id' -> why it cannot be bought or rented at ``as_of`` (kept so references resolve)."""
    overridden: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """'kind/id' -> (path, 'file:line') of every field a user override set."""

    # ---- lookups -------------------------------------------------------------------------
    def _aliases(self, kind: str) -> dict[str, str]:
        table: dict[str, str] = {}
        entries = getattr(self, kind)
        for key, entry in entries.items():
            table[key] = key
            for alias in getattr(entry, "aliases", []):
                table.setdefault(alias, key)
        return table

    def resolve(self, kind: str, ident: str) -> str | None:
        """Canonical id for an id or alias, or None."""
        return self._aliases(kind).get(ident)

    def suggest(self, kind: str, ident: str) -> str | None:
        names = list(self._aliases(kind))
        close = difflib.get_close_matches(ident, names, n=1, cutoff=0.5)
        return close[0] if close else None

    def accelerator_of(self, offer: Offer) -> Accelerator:
        return self.accelerators[offer.accelerator]

    def fx(self) -> float:
        """CNY per USD used for every conversion (dated in the catalog)."""
        if self.fx_cny_per_usd is None or self.fx_cny_per_usd.value is None:
            raise InputError.single("catalog", "no fx_cny_per_usd rate in any catalog file")
        return self.fx_cny_per_usd.value

    def to_usd(self, amount: float, currency: str) -> float:
        return amount if currency == "USD" else amount / self.fx()

    def convert(self, amount: float, currency: str, to: str) -> float:
        """Money from one currency to another (USD or CNY) at the catalog's dated rate."""
        if currency == to:
            return amount
        usd = self.to_usd(amount, currency)
        return usd if to == "USD" else usd * self.fx()

    def plausibility_warnings(self) -> list[str]:
        """Figures outside their plausible range (likely unit slips), each located by file:line."""
        from planner.catalog.sanity import implausible

        out = []
        for key, path, message in implausible(self):
            kind, _, ident = key.partition("/")
            where = self.where(kind, ident) if ident else "catalog"
            for set_path, set_where in self.overridden.get(key, []):
                if set_path == path or set_path.startswith(path + "."):
                    where = set_where
            out.append(f"{where}: {key}: {message}")
        return out

    def where(self, kind: str, ident: str) -> str:
        origin = self.origins.get((kind, ident))
        if origin is None:
            return "catalog"
        return f"{origin.file}:{origin.line}" if origin.line else origin.file


def _catalog_paths(paths: list[str | os.PathLike[str]] | None, bundled: bool) -> list[Path]:
    """Bundled files first (sorted), then the overlays in order; a file named twice is read once."""
    files = sorted(BUNDLED_DIR.glob("*.yaml")) if bundled else []
    seen = {p.resolve() for p in files}
    for p in paths or []:
        path = Path(p)
        key = path.resolve() if path.exists() else path
        if key not in seen:
            seen.add(key)
            files.append(path)
    return files


def load_catalog(
    paths: list[str | os.PathLike[str]] | None = None,
    *,
    bundled: bool = True,
    as_of: str | dt.date | None = None,
) -> Catalog:
    """Load the bundled catalog and overlay ``paths`` in order (later files win by id).

    After every file is merged, the files' ``overrides:`` are applied in order, then the
    references are checked. ``as_of`` (a date or 'YYYY-MM-DD') narrows the catalog to what could
    be bought or rented then, with the prices and policies of that date (see ``as_of.py``).
    """
    from planner.catalog.as_of import as_of as narrow
    from planner.catalog.overrides import apply_overrides

    cat = Catalog()
    pending: list[tuple[YamlDocument, CatalogFile]] = []
    for path in _catalog_paths(paths, bundled):
        doc = read_yaml(path)
        parsed = merge_file(cat, doc)
        if parsed.overrides:
            pending.append((doc, parsed))
    for doc, parsed in pending:
        apply_overrides(cat, doc, parsed.overrides)
    check_references(cat)
    if as_of is not None:
        cat = narrow(cat, as_of)
    return cat


def merge_file(cat: Catalog, doc: YamlDocument) -> CatalogFile:
    """Validate one file and merge its entries; an entry with a known id replaces it."""
    parsed: CatalogFile = validate_as(CatalogFile, doc)
    cat.files.append(doc.file)
    if parsed.fx_cny_per_usd is not None:
        cat.fx_cny_per_usd = parsed.fx_cny_per_usd
    for kind in KINDS:
        seen: set[str] = set()
        target = getattr(cat, kind)
        for index, entry in enumerate(getattr(parsed, kind)):
            line = doc.line_of((kind, index))
            if entry.id in seen:
                raise InputError.single(
                    doc.file, f"duplicate {kind[:-1]} id '{entry.id}'", line=line, field=f"{kind}[{index}].id"
                )
            seen.add(entry.id)
            if entry.id in target:
                log.info("%s:%s overrides %s '%s'", doc.file, line, kind[:-1], entry.id)
            target[entry.id] = entry
            cat.origins[(kind, entry.id)] = Origin(doc.file, line)
    return parsed


def check_references(cat: Catalog) -> None:
    """Every id an entry names must exist; report all dangling references at once."""
    problems: list[InputProblem] = []

    def bad(kind: str, ident: str, fld: str, ref_kind: str, ref: str) -> None:
        origin = cat.origins.get((kind, ident), Origin("catalog", None))
        hint = cat.suggest(ref_kind, ref)
        problems.append(
            InputProblem(
                file=origin.file,
                line=origin.line,
                field=f"{kind}[{ident}].{fld}",
                message=f"unknown {ref_kind[:-1]} '{ref}'",
                hint=f"did you mean '{hint}'?" if hint else None,
            )
        )

    for acc in cat.accelerators.values():
        if acc.software_stack not in cat.stacks:
            bad("accelerators", acc.id, "software_stack", "stacks", acc.software_stack)
    for offer in cat.offers.values():
        canon = cat.resolve("accelerators", offer.accelerator)
        if canon is None:
            bad("offers", offer.id, "accelerator", "accelerators", offer.accelerator)
        elif canon != offer.accelerator:
            cat.offers[offer.id] = offer.model_copy(update={"accelerator": canon})
        if offer.site is not None and offer.site not in cat.sites:
            bad("offers", offer.id, "site", "sites", offer.site)
        if offer.requires_policy is not None and offer.requires_policy not in cat.policies:
            bad("offers", offer.id, "requires_policy", "policies", offer.requires_policy)
    for policy in cat.policies.values():
        for rule in policy.rules:
            sites = getattr(rule, "sites", None) or []
            match = getattr(rule, "match", None)
            if match is not None:
                sites = sites + (match.site or [])
                for acc_id in match.accelerator or []:
                    if cat.resolve("accelerators", acc_id) is None:
                        bad("policies", policy.id, "rules.match.accelerator", "accelerators", acc_id)
                for offer_id in match.offer or []:
                    if offer_id not in cat.offers:
                        bad("policies", policy.id, "rules.match.offer", "offers", offer_id)
            for site_id in sites:
                if site_id not in cat.sites:
                    bad("policies", policy.id, "rules.sites", "sites", site_id)
    if problems:
        raise InputError(problems)
