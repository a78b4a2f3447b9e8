"""The ``classify`` JSON object's fields, in order (docs/taxonomy.md: new fields are
only added, at the end). The CLI's output and ``Classification.as_dict`` both keep it."""

CLASSIFY_FIELDS = [
    "text",
    "relevant",
    "modalities",
    "cn",
    "eu",
    "us",
    "doc_type",
    "status",
    "disciplines",
    "evidence",
    "jp",
    "scope",
    "evidence_where",
]
