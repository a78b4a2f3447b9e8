"""The result of classifying a document, and the fixed vocabularies it uses
(docs/taxonomy.md). Filters, stored rows and tests rely on these exact words."""

from __future__ import annotations

from collections.abc import Mapping
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
        lists: dict[str, tuple[str, ...]] = {}
        for name, vocabulary in LIST_FIELDS.items():
            raw = data.get(name, ())
            if isinstance(raw, str) or not all(isinstance(v, str) for v in raw):
                raise TypeError(f"classification field {name!r} must be a list of strings")
            unknown = [v for v in raw if v not in vocabulary]
            if unknown:
                raise ValueError(f"classification field {name!r}: unknown value(s) {unknown}")
            lists[name] = tuple(raw)
        relevant = data.get("relevant", False)
        doc_type = data.get("doc_type", "other")
        status = data.get("status", "unknown")
        evidence = data.get("evidence", ())
        if not isinstance(relevant, bool):
            raise TypeError("classification field 'relevant' must be true or false")
        if doc_type not in DOC_TYPES:
            raise ValueError(f"classification field 'doc_type': unknown value {doc_type!r}")
        if status not in STATUSES:
            raise ValueError(f"classification field 'status': unknown value {status!r}")
        if isinstance(evidence, str) or not all(isinstance(v, str) for v in evidence):
            raise TypeError("classification field 'evidence' must be a list of strings")
        # rows stored before scope existed: relevant ones are about CGT
        scope = data.get("scope", "cgt" if relevant else "none")
        if scope not in SCOPES:
            raise ValueError(f"classification field 'scope': unknown value {scope!r}")
        where = data.get("evidence_where", ())
        if isinstance(where, str) or any(w not in WHERE for w in where):
            raise ValueError(f"classification field 'evidence_where' must list values of {WHERE}")
        at = data.get("evidence_at", ())
        if isinstance(at, str) or not all(isinstance(v, str) for v in at):
            raise TypeError("classification field 'evidence_at' must be a list of strings")
        return cls(
            relevant=relevant,
            doc_type=doc_type,
            status=status,
            evidence=tuple(evidence),
            scope=scope,
            evidence_where=tuple(where),
            evidence_at=tuple(at),
            **lists,
        )
