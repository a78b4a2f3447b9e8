"""The built-in adapters. Add a module here to make its kind available."""

# Each import registers its adapters via @register; the list is explicit.
from sources import generic  # noqa: F401
