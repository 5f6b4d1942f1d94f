"""`kmop token`: a development token for a role. It only prints: it imports neither FastAPI
nor SQLAlchemy (tests/unit/test_cli.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.base import cli, get_settings


@cli.command()
def token(
    role: Annotated[str, typer.Option(help="agency, bureau or provider")],
    subject: Annotated[
        str | None,
        typer.Option(
            "--sub",
            help="The client id (default: one per identity: provider-<enterprise number>, "
            "bureau-<bureau id>, agency-dev)",
        ),
    ] = None,
    bureau_id: Annotated[
        str | None, typer.Option(help="role bureau: the bureau it acts for")
    ] = None,
    enterprise_number: Annotated[
        str | None, typer.Option(help="role provider: its enterprise number")
    ] = None,
    ttl: Annotated[
        int,
        typer.Option(help="Seconds the token is valid (at most KMOP_JWT_MAX_LIFETIME_SECONDS)"),
    ] = 8 * 3600,
) -> None:
    """Print a development bearer token (HS256, signed with KMOP_JWT_SECRET or the development
    secret) that the service accepts: TOKEN=$(kmop token --role agency)."""
    from app.api.http.tokens import default_subject, mint_token
    from app.domain.identifiers import InvalidIdentifier
    from app.domain.roles import Role

    settings = get_settings()
    secret = settings.signing_secret()
    if secret is None:
        typer.echo("No KMOP_JWT_SECRET: this service verifies RS256 tokens only.", err=True)
        raise typer.Exit(2)
    try:
        kind = Role(role)
    except ValueError:
        raise typer.BadParameter("agency, bureau or provider", param_hint="--role") from None
    if not 0 < ttl <= settings.jwt_max_lifetime_seconds:
        raise typer.BadParameter(
            f"from 1 to {settings.jwt_max_lifetime_seconds} seconds: the service refuses "
            "longer-lived tokens (KMOP_JWT_MAX_LIFETIME_SECONDS)",
            param_hint="--ttl",
        )
    if kind is Role.BUREAU and not bureau_id:
        raise typer.BadParameter("a bureau's token needs --bureau-id", param_hint="--bureau-id")
    if kind is Role.PROVIDER and not enterprise_number:
        raise typer.BadParameter(
            "a provider's token needs --enterprise-number", param_hint="--enterprise-number"
        )
    try:
        if subject is None:
            subject = default_subject(kind, bureau_id, enterprise_number)
        typer.echo(
            mint_token(
                secret,
                subject=subject,
                role=kind,
                bureau_id=bureau_id if kind is Role.BUREAU else None,
                enterprise_number=enterprise_number if kind is Role.PROVIDER else None,
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                ttl_seconds=ttl,
            )
        )
    except InvalidIdentifier as exc:
        raise typer.BadParameter(exc.detail, param_hint="--enterprise-number") from None
