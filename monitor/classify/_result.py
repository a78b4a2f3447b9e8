"""The result of classifying a document, and the fixed vocabularies it uses
(docs/taxonomy.md). Filters, stored rows and tests rely on these exact words."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

CN = ("cell_therapy", "gene_therapy", "other")
EU = ("gtmp", "sctmp", "tep", "combined", "atmp")
US = ("cellular_therapy", "gene_therapy", "cellular_gene_therapy", "tissue", "xenotransplantation")
# Japan's PMD Act classes of 再生医療等製品 (regenerative medical products)
JP = ("human_cell_processed", "animal_cell_processed", "gene_therapy")
# cgt: about CGT / ATMP; horizontal: applies to all medicines or all biologics
# (so to CGT too); none: neither
SCOPES = ("cgt", "horizontal", "none")
# where an evidence word was found
WHERE = ("title", "text")
MODALITIES = (
    "car_t",
    "car_nk",
    "tcr_t",
    "gene_modified_cells",
    "immune_cells",
    "stem_cells",
    "aav",
    "lentiviral",
    "retroviral",
    "adenoviral",
    "plasmid",
    "gene_editing",
    "oncolytic",
    "mrna_therapeutic",
    "nucleic_acid",
    "tissue_engineered",
    "exosome",
    "therapeutic_vaccine",
    "neoantigen",
    "phage",
    "novel_delivery",
    "xenotransplantation",
    "hct_p",
)
DOC_TYPES = ("guideline", "qa", "reflection_paper", "notice", "regulation", "consultation", "other")
STATUSES = ("draft", "final", "withdrawn", "unknown")
DISCIPLINES = ("quality", "nonclinical", "clinical", "regulatory")

# field name -> its vocabulary, for the list-valued fields
LIST_FIELDS: dict[str, tuple[str, ...]] = {
    "modalities": MODALITIES,
    "cn": CN,
    "eu": EU,
    "us": US,
    "jp": JP,
    "disciplines": DISCIPLINES,
}


def in_order(values: set[str] | frozenset[str], vocabulary: tuple[str, ...]) -> tuple[str, ...]:
    """The values, in the order of their vocabulary (stable output for JSON and tests)."""
    if not values:
        return ()  # most classes of most titles: no generator to build
    return tuple(v for v in vocabulary if v in values)


@dataclass(frozen=True)
class Classification:
    """What a document is about, in the words of docs/taxonomy.md.

    ``relevant`` says whether it concerns cell / gene therapy (ATMP) products;
    ``cn``, ``eu`` and ``us`` are the legal classes in China, the EU and the US,
    derived from the ``modalities``, and ``jp`` Japan's PMD Act class;
    ``scope`` says whether it is about CGT, applies to all medicines or
    biologics ("horizontal") or neither; ``evidence`` holds the words that
    decided it, as they appear, and ``evidence_where`` (same length) says
    whether each was found in the title or in the document's text. When the
    text decided relevance (an ambiguous title, ``monitor.classify.ambiguous``),
    ``evidence_at`` (same length) says where each text word was found, e.g.
    ``attachment "附件1.pdf" p.2`` ("" for a title word); else it is empty.
    """

    relevant: bool
    modalities: tuple[str, ...] = ()
    cn: tuple[str, ...] = ()
    eu: tuple[str, ...] = ()
    us: tuple[str, ...] = ()
    doc_type: str = "other"
    status: str = "unknown"
    disciplines: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    jp: tuple[str, ...] = ()
    scope: str = "none"
    evidence_where: tuple[str, ...] = ()
    evidence_at: tuple[str, ...] = ()

    def as_dict(self, text: str | None = None) -> dict[str, Any]:
        """The docs/taxonomy.md JSON object. ``text`` (the classified input) comes
        first when given."""
        out: dict[str, Any] = {} if text is None else {"text": text}
        out.update(
            {
                "relevant": self.relevant,
                "modalities": list(self.modalities),
                "cn": list(self.cn),
                "eu": list(self.eu),
                "us": list(self.us),
                "doc_type": self.doc_type,
                "status": self.status,
                "disciplines": list(self.disciplines),
                "evidence": list(self.evidence),
                "jp": list(self.jp),
                "scope": self.scope,
                "evidence_where": list(self.evidence_where),
            }
        )
        if self.evidence_at:  # only when the text decided: older outputs stay as they were
            out["evidence_at"] = list(self.evidence_at)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Classification:
        """Read back what :meth:`as_dict` wrote (``text`` is ignored).

        Raises ValueError for a value outside the vocabularies, TypeError for a
        value of the wrong type.
        """
        lists = {name: _vocabulary_list(data, name, words) for name, words in LIST_FIELDS.items()}
        relevant = data.get("relevant", False)
        if not isinstance(relevant, bool):
            raise TypeError("classification field 'relevant' must be true or false")
        doc_type = _one_of(data, "doc_type", "other", DOC_TYPES)
        status = _one_of(data, "status", "unknown", STATUSES)
        evidence = _strings(data, "evidence")
        # rows stored before scope existed: relevant ones are about CGT
        scope = _one_of(data, "scope", "cgt" if relevant else "none", SCOPES)
        where = data.get("evidence_where", ())
        if isinstance(where, str) or any(w not in WHERE for w in where):
            raise ValueError(f"classification field 'evidence_where' must list values of {WHERE}")
        at = _strings(data, "evidence_at")
        return cls(
            relevant=relevant,
            doc_type=doc_type,
            status=status,
            evidence=evidence,
            scope=scope,
            evidence_where=tuple(where),
            evidence_at=at,
            **lists,
        )


def _strings(data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """Field `name` as a tuple of strings (empty when absent); TypeError otherwise."""
    raw = data.get(name, ())
    if isinstance(raw, str) or not all(isinstance(v, str) for v in raw):
        raise TypeError(f"classification field {name!r} must be a list of strings")
    return tuple(raw)


def _vocabulary_list(
    data: Mapping[str, Any], name: str, vocabulary: Collection[str]
) -> tuple[str, ...]:
    """Field `name` as a tuple of words of `vocabulary`; ValueError for others."""
    values = _strings(data, name)
    unknown = [v for v in values if v not in vocabulary]
    if unknown:
        raise ValueError(f"classification field {name!r}: unknown value(s) {unknown}")
    return values


def _one_of(data: Mapping[str, Any], name: str, default: str, allowed: Collection[str]) -> Any:
    """Field `name` (`default` when absent), which must be one of `allowed`."""
    value = data.get(name, default)
    if value not in allowed:
        raise ValueError(f"classification field {name!r}: unknown value {value!r}")
    return value
