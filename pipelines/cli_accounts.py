"""`fengqiao users`: the dashboard's accounts (add, list, remove), for administrators."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from pipelines.cli_base import app, console, settings_of, table_of, user_errors
from warehouse.accounts import Role

users_app = typer.Typer(help="Dashboard accounts: add, list, remove.", no_args_is_help=True)


app.add_typer(users_app, name="users", rich_help_panel="Accounts (administrators)")


def _read_password(name: str) -> str:
    """A new password: prompted twice, hidden, on a terminal; else the first line of standard input."""
    if sys.stdin.isatty():
        return typer.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command("add")
def users_add(
    context: typer.Context,
    name: Annotated[str, typer.Argument(help="User name to log in with.")],
    role: Annotated[
        Role, typer.Option(help="admin (everything), analyst (own districts) or viewer (read-only).")
    ],
    district: Annotated[
        list[str] | None, typer.Option("--district", help="A district the user sees (repeat for several).")
    ] = None,
    new_district: Annotated[
        bool,
        typer.Option(
            "--new-district", help="Accept districts no stored case or call names yet (else refused: typos)."
        ),
    ] = False,
) -> None:
    """Add a dashboard user; the password is prompted for (or read from standard input), never an argument.
    A district the store does not know is refused, with the closest known names, unless --new-district."""
    from pipelines.runtime import open_warehouse
    from warehouse.accounts import add_account, check_access, check_districts, known_districts

    with user_errors():
        districts = tuple(district or ())
        check_access(name, role, districts)
        warehouse = open_warehouse(settings_of(context))
        if districts and not new_district:
            with warehouse.transaction() as connection:
                check_districts(districts, known_districts(connection))
        password = _read_password(name)
        with warehouse.transaction() as connection:
            account = add_account(connection, name, role, districts, password)
    where = "、".join(account.districts) or "every district"
    console.print(f"user [bold]{account.name}[/bold] added: {account.role} ({where})")


@users_app.command("list")
def users_list(context: typer.Context) -> None:
    """List dashboard users with their roles and districts (never their passwords)."""
    from pipelines.runtime import open_warehouse
    from warehouse.accounts import list_accounts

    with open_warehouse(settings_of(context)).transaction() as connection:
        table = list_accounts(connection)
    if table.empty:
        console.print("No users yet: add one with `fengqiao users add NAME --role ROLE`.")
        return
    console.print(table_of(table, "Dashboard users"))


@users_app.command("remove")
def users_remove(
    context: typer.Context, name: Annotated[str, typer.Argument(help="User name to remove.")]
) -> None:
    """Remove a dashboard user (the feedback they recorded stays, under their name)."""
    from pipelines.runtime import open_warehouse
    from warehouse.accounts import remove_account

    with open_warehouse(settings_of(context)).transaction() as connection:
        removed = remove_account(connection, name)
    if not removed:
        console.print(f"[red]error:[/red] no user {name!r}")
        raise typer.Exit(code=1)
    console.print(f"user {name} removed")
