"""Getting a site's bytes: the HTTP and browser fetchers, politeness, the network policy and
block recognition."""
