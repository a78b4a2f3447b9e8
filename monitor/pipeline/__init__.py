"""One check of one source: fetch, plan, read attachments, classify, write documents and
changes, record health and evidence."""
