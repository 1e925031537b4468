"""Bulk import for a brand moving in from another system: members and orders from CSV files.

`python -m yutang_dev import members|orders <csv> [--rejects file] [--earn-points]`. Each import streams the file
into an UNLOGGED staging table with PostgreSQL COPY, validates set-wise in SQL, upserts on the external keys (a
re-run of the same file adds nothing), writes the rejected rows with their line number and reason to a CSV file,
and shows a progress bar with rows/s.
"""

from __future__ import annotations

from yutang_dev.importer.common import ImportReport
from yutang_dev.importer.members import import_members
from yutang_dev.importer.orders import import_orders

__all__ = ["ImportReport", "import_members", "import_orders"]
