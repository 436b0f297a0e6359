"""Computed answers for numeric questions, one module per group of topic files."""
