"""The built-in adapters. Add a module here to make its kind available."""

# Each import registers its adapters via @register; the list is explicit.
from sources.adapters import (
    cde,  # noqa: F401  cde
    ema,  # noqa: F401  ema-documents
    fda,  # noqa: F401  fda-guidance, fda-cber-cgt
    federal_register,  # noqa: F401  federal-register
    html_list,  # noqa: F401  html-list
    json_list,  # noqa: F401  json-list
    nmpa,  # noqa: F401  nmpa
    page,  # noqa: F401  page
    rss,  # noqa: F401  rss
)
