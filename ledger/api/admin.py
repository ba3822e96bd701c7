"""The admin routes (SPEC §12): users, tokens, platforms, keys and branches.

Admins only; every change goes through `ledger.service.administration`, which puts it in the
audit trail with the caller as the actor. A token's secret is answered once, when it is made.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ledger.api.access import current_principal, roles
from ledger.api.admin_schemas import (
    KEY_PATH_PARAMETER,
    PLATFORM_PATH_PARAMETER,
    USERNAME_PATH_PARAMETER,
    BranchSchema,
    CreatedTokenSchema,
    KeyRevocationSchema,
    KeySchema,
    NewBranchSchema,
    NewKeySchema,
    NewPlatformSchema,
    NewTokenSchema,
    NewUserSchema,
    TokenPageSchema,
    TokenQuerySchema,
    TokenSchema,
    UserPageSchema,
    UserSchema,
    UserUpdateSchema,
)
from ledger.api.blueprint import Blueprint
from ledger.api.pagination import PageQuerySchema, PageRequest
from ledger.api.schemas import PlatformSchema
from ledger.app_context import current_ledger
from ledger.contract.webhook import encode_public_key
from ledger.domain.entry import rfc3339_utc
from ledger.service import access, administration
from ledger.service.access import user_document, user_of

blp = Blueprint("admin", __name__, description="Users, tokens, platforms, keys and branches")


def _actor() -> str:
    return current_principal().username


@blp.route("/users")
@roles("admin")
@blp.arguments(PageQuerySchema, location="query")
@blp.response(200, UserPageSchema)
def list_users(query: dict[str, Any]) -> dict[str, Any]:
    """Every user, disabled ones too, in the order they were made"""
    asked = PageRequest.of(query)
    with current_ledger().sessions() as session:
        items, following = access.list_users(session, asked.after, asked.limit)
    return {"items": items, "next": following}


@blp.route("/users", methods=["POST"])
@roles("admin")
@blp.arguments(NewUserSchema)
@blp.response(201, UserSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def add_user(body: dict[str, Any]) -> dict[str, Any]:
    """Add a user: tellers and supervisors belong to a branch, a platform operator to a
    platform"""
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        user = administration.add_user(session, _actor(), body["username"], body["role"],
                                       body.get("branch"), body.get("platform"), ledger.clock())
        return user_document(user)


@blp.route("/users/<username>", methods=["PATCH"], parameters=[USERNAME_PATH_PARAMETER])
@roles("admin")
@blp.arguments(UserUpdateSchema)
@blp.response(200, UserSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def update_user(body: dict[str, Any], username: str) -> dict[str, Any]:
    """Change a user's role, branch or platform, or disable or enable them (a disabled user's
    tokens are refused from the next request on); users are never deleted"""
    ledger = current_ledger()
    now = ledger.clock()
    with ledger.sessions.begin() as session:
        if body.keys() & {"role", "branch", "platform"}:
            role, branch, platform = _assignment(session, username, body)
            administration.set_role(session, _actor(), username, role, branch, platform, now)
        if "disabled" in body:
            administration.set_disabled(session, _actor(), username, body["disabled"], now)
        return user_document(user_of(session, username))


def _assignment(session: Session, username: str,
                body: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """A new role comes with its own branch or platform; without one, the role stays and only
    the branch or platform given changes."""
    if "role" in body:
        return body["role"], body.get("branch"), body.get("platform")
    user = user_of(session, username)
    return (user.role, body.get("branch", user.branch), body.get("platform", user.platform))


@blp.route("/users/<username>/tokens", methods=["POST"], parameters=[USERNAME_PATH_PARAMETER])
@roles("admin")
@blp.arguments(NewTokenSchema, required=False)
@blp.response(201, CreatedTokenSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def create_token(body: dict[str, Any], username: str) -> dict[str, Any]:
    """A new API token for the user: the secret is in this answer only"""
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        secret, token = administration.create_token(session, _actor(), username,
                                                    body["ttl_days"], ledger.clock())
        return {"id": token.id, "username": username, "token": secret,
                "created_at": rfc3339_utc(token.created_at),
                "expires_at": rfc3339_utc(token.expires_at)}


@blp.route("/tokens")
@roles("admin")
@blp.arguments(TokenQuerySchema, location="query")
@blp.response(200, TokenPageSchema)
@blp.alt_response(404, response="NOT_FOUND")
def list_tokens(query: dict[str, Any]) -> dict[str, Any]:
    """Tokens (of one user with `username`) in the order they were made; never a secret"""
    asked = PageRequest.of(query)
    with current_ledger().sessions() as session:
        items, following = access.list_tokens(session, query.get("username"), asked.after,
                                              asked.limit)
    return {"items": items, "next": following}


@blp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@roles("admin")
@blp.response(200, TokenSchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def revoke_token(token_id: int) -> dict[str, Any]:
    """Refuse the token from the next request on"""
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        token, username = administration.revoke_token(session, _actor(), token_id,
                                                      ledger.clock())
        return access.token_document(token, username)


@blp.route("/platforms", methods=["POST"])
@roles("admin")
@blp.arguments(NewPlatformSchema)
@blp.response(201, PlatformSchema)
@blp.alt_response(409, response="CONFLICT")
def add_platform(body: dict[str, Any]) -> dict[str, Any]:
    """Register a township platform"""
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        platform = administration.add_platform(session, _actor(), body["code"], body["name"],
                                               body["township"], ledger.clock())
        return {"code": platform.code, "name": platform.name, "township": platform.township,
                "last_seq": platform.last_seq, "gaps": []}


@blp.route("/platforms/<platform>/keys", methods=["POST"],
           parameters=[PLATFORM_PATH_PARAMETER])
@roles("admin")
@blp.arguments(NewKeySchema)
@blp.response(201, KeySchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def add_key(body: dict[str, Any], platform: str) -> dict[str, Any]:
    """Register a platform's public key (whpk_…); its private key never comes here"""
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        registered = administration.add_key(session, _actor(), platform, body["public_key"],
                                            ledger.clock())
    return {"key_id": registered.key_id, "platform": registered.platform,
            "public_key": registered.public_key, "revoked_at": None, "compromised_at": None}


@blp.route("/keys/<key_id>/revoke", methods=["POST"], parameters=[KEY_PATH_PARAMETER])
@roles("admin")
@blp.arguments(KeyRevocationSchema, required=False)
@blp.response(200, KeySchema)
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def revoke_key(body: dict[str, Any], key_id: str) -> dict[str, Any]:
    """Retire a key (rotation), or with `compromised` declare that it leaked"""
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        key = administration.revoke_key(session, _actor(), key_id, ledger.clock(),
                                        compromised=body["compromised"])
        return {"key_id": key.key_id, "platform": key.platform,
                "public_key": encode_public_key(key.public_key),
                "revoked_at": _time(key.revoked_at), "compromised_at": _time(key.compromised_at)}


@blp.route("/branches", methods=["POST"])
@roles("admin")
@blp.arguments(NewBranchSchema)
@blp.response(201, BranchSchema)
@blp.alt_response(409, response="CONFLICT")
def add_branch(body: dict[str, Any]) -> dict[str, Any]:
    """Register a bank branch"""
    ledger = current_ledger()
    with ledger.sessions.begin() as session:
        branch = administration.add_branch(session, _actor(), body["code"], body["name"],
                                           ledger.clock())
        return {"code": branch.code, "name": branch.name,
                "created_at": rfc3339_utc(branch.created_at)}


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339_utc(moment)
