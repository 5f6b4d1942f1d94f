"""Replies of the command routes: the resulting state of the resource a command acted on,
rendered inside the command's transaction (``app.api.commands``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from app.api import queries
from app.api.auth import Principal
from app.api.commands import Render, Reply


def application(application_id: str, principal: Principal, *, created: bool = False) -> Render:
    async def render(conn: AsyncConnection, outcome: Any) -> Reply:
        view = await queries.application(conn, application_id, principal)
        return Reply(
            201 if created else 200,
            view,
            location=f"/applications/{application_id}" if created else None,
            version=outcome.version,
        )

    return render


def audit(audit_id: str, principal: Principal, *, created: bool = False) -> Render:
    async def render(conn: AsyncConnection, outcome: Any) -> Reply:
        view = await queries.audit(conn, audit_id, principal)
        return Reply(
            201 if created else 200,
            view,
            location=f"/audits/{audit_id}" if created else None,
            version=outcome.version,
        )

    return render


def registration(unit_key: str, principal: Principal) -> Render:
    async def render(conn: AsyncConnection, outcome: Any) -> Reply:
        row = await queries.find_unit(conn, unit_key, principal)
        return Reply(200, queries.registration_view(row), version=outcome.version)

    return render


def bureau(bureau_id: str) -> Render:
    async def render(conn: AsyncConnection, outcome: Any) -> Reply:
        view = await queries.bureau(conn, bureau_id)
        created = outcome.version == 1
        return Reply(
            201 if created else 200,
            view,
            location=f"/bureaus/{bureau_id}" if created else None,
            version=outcome.version,
        )

    return render
