"""`python -m yutang_dev import members|orders|balances <csv>`: the command's body."""

from __future__ import annotations

import argparse
import asyncio
import os

from loyalty.config import LoyaltySettings
from members.config import MembersSettings
from members.pii import MobileVault
from yutang_dev.importer.balances import Databases, import_balances
from yutang_dev.importer.common import ImportReport
from yutang_dev.importer.members import fingerprint_key, import_members
from yutang_dev.importer.orders import import_orders


def run_import(args: argparse.Namespace, database_url: str) -> int:
    """Import the file; exit code 0 even with rejected rows (they are in the rejects file), 2 for a bad file.

    `database_url` is the members database; opening balances are posted in `LOYALTY_DATABASE_URL` when set, else
    in the same database."""
    key = MembersSettings(database_url=database_url).pii_key_bytes()
    vault = MobileVault(key)
    try:
        report: ImportReport
        if args.kind == "balances":
            loyalty = LoyaltySettings(database_url=os.environ.get("LOYALTY_DATABASE_URL") or database_url)
            report = asyncio.run(
                import_balances(
                    args.csv,
                    databases=Databases(members=database_url, loyalty=loyalty.database_url),
                    fingerprint_key=fingerprint_key(key),
                    expiry=loyalty.expiry_policies(),
                    rejects=args.rejects,
                )
            )
        elif args.kind == "members":
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
