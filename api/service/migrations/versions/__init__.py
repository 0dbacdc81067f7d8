"""Catalog schema revisions (one module per revision)."""
