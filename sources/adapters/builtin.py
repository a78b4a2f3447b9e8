"""The built-in adapters: each kind and the module that registers it (its
``@register`` runs on import). Add a module's kinds here to make them available.

A check imports only the modules of the kinds it is configured with (an
html-list config needs none of the CDE, NMPA, FDA or EMA parsers);
``regwatch sources`` and an unknown kind import them all.
tests/test_registry_lazy.py checks the map against what each module registers.
"""

MODULES: dict[str, str] = {
    "cde": "sources.adapters.cde",
    "ema-documents": "sources.adapters.ema",
    "fda-guidance": "sources.adapters.fda",
    "fda-cber-cgt": "sources.adapters.fda",
    "federal-register": "sources.adapters.federal_register",
    "html-list": "sources.adapters.html_list",
    "json-list": "sources.adapters.json_list",
    "nmpa": "sources.adapters.nmpa",
    "page": "sources.adapters.page",
    "rss": "sources.adapters.rss",
}
