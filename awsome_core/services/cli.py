"""``awsome token create --user NAME --name LABEL``: print a new API token (for scripts and tests).

``awsome token list --user NAME`` shows a user's live tokens; ``awsome token revoke --user NAME ID`` revokes one.
"""

from __future__ import annotations

import argparse
import sys

from awsome_core.config import Settings
from awsome_core.errors import NotFound
from awsome_core.services import tokens
from awsome_core.storage import repository
from awsome_core.storage.db import make_engine, make_sessionmaker, session_scope


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="awsome token", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a token and print it (shown once)")
    create.add_argument("--user", required=True, help="username")
    create.add_argument("--name", required=True, help="a label, e.g. 'my script'")
    listing = sub.add_parser("list", help="list a user's live tokens")
    listing.add_argument("--user", required=True)
    revoke = sub.add_parser("revoke", help="revoke one of a user's tokens")
    revoke.add_argument("--user", required=True)
    revoke.add_argument("id", type=int)
    args = parser.parse_args(argv)
    engine = make_engine(Settings.load().effective_database_url)
    sessions = make_sessionmaker(engine)
    try:
        if args.command == "create":
            created = tokens.create_token_for_username(sessions=sessions, username=args.user, name=args.name)
            sys.stdout.write(created.token + "\n")
            return 0
        with session_scope(sessions) as session:
            user = repository.get_user_by_username(session=session, username=args.user)
            if user is None:
                raise NotFound(f"There is no user called {args.user!r}.")
            user_id = user.id
        if args.command == "list":
            for t in tokens.list_tokens(sessions=sessions, user_id=user_id):
                used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
                sys.stdout.write(f"{t.id}\t{t.prefix}…\t{t.name}\tcreated {t.created_at:%Y-%m-%d}\tlast used {used}\n")
        else:
            tokens.revoke_token(sessions=sessions, user_id=user_id, token_id=args.id)
        return 0
    finally:
        engine.dispose()
