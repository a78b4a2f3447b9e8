"""Local replicas of the regulator sites, served on 127.0.0.1.

Used by the tests and by ``regwatch demo``. Each site replica reproduces the
structure docs/sources.md documents (paths, field names, date formats,
encodings, bot challenges) and can move through a scripted timeline.
``monitor.replica.registry`` says which replica serves each adapter kind and
each starter preset; the contract, fuzz and fault tests run over it.
"""
