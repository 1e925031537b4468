"""Fixtures of the orders tests: the stores orders name (organisation's tables), made before each test."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

STORES = ("S001", "S002")


async def make_stores(engine: AsyncEngine, *codes: str) -> None:
    """A region and these stores in it."""
    async with engine.begin() as connection:
        region = (
            await connection.execute(
                text(
                    "INSERT INTO members.regions (id, code, name) VALUES (gen_random_uuid(), 'R1', 'Region 1') "
                    "ON CONFLICT (code) DO UPDATE SET name = excluded.name RETURNING id"
                )
            )
        ).scalar_one()
        for code in codes:
            await connection.execute(
                text(
                    "INSERT INTO members.stores (id, code, name, region_id) "
                    "VALUES (gen_random_uuid(), :code, :code, :region) ON CONFLICT (code) DO NOTHING"
                ),
                {"code": code, "region": region},
            )


@pytest.fixture(autouse=True)
async def _stores(engine: AsyncEngine) -> None:
    await make_stores(engine, *STORES)
