"""`python -m yutang_dev import members|orders <csv>`: the command's body, run on one database."""

from __future__ import annotations

import argparse
import asyncio

from members.config import MembersSettings
from members.pii import MobileVault
from yutang_dev.importer.common import ImportReport
from yutang_dev.importer.members import import_members
from yutang_dev.importer.orders import import_orders


def run_import(args: argparse.Namespace, database_url: str) -> int:
    """Import the file; exit code 0 even with rejected rows (they are in the rejects file), 2 for a bad file."""
    key = MembersSettings(database_url=database_url).pii_key_bytes()
    vault = MobileVault(key)
    try:
        report: ImportReport
        if args.kind == "members":
            report = asyncio.run(
                import_members(args.csv, database_url=database_url, vault=vault, key=key, rejects=args.rejects)
            )
        else:
            report = asyncio.run(
                import_orders(
                    args.csv,
                    database_url=database_url,
                    vault=vault,
                    rejects=args.rejects,
                    earn_points=args.earn_points,
                    client=args.client,
                )
            )
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}")
        return 2
    if report.rejected and args.rejects is None:
        print(f"{report.rejected} rows were rejected; pass --rejects FILE to see which and why")
    return 0
