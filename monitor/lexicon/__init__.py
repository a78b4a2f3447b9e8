"""Data only: the classifier's bilingual lexicons (TOML), read by monitor.classify.

A package so that the files ship with the distribution (package-data).
"""
