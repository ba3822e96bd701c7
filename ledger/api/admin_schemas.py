"""Request and response documents of the admin routes (SPEC §12)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ledger.api.fields import FullMatch, StrictBoolean
from ledger.api.pagination import PageQuerySchema
from ledger.api.schemas import path_parameter
from ledger.contract.envelope import PLATFORM_CODE_PATTERN
from ledger.domain.roles import ROLES
from ledger.service.access import (
    BRANCH_CODE_PATTERN,
    TOKEN_TTL_DAYS_DEFAULT,
    TOKEN_TTL_DAYS_MAX,
    USERNAME_PATTERN,
)
from ledger.service.registry import NAME_LENGTH_MAX

KEY_ID_PATTERN = r"key_[0-9a-f]{16}"
USERNAME_PATH_PARAMETER = path_parameter("username", USERNAME_PATTERN.pattern, "the username")
PLATFORM_PATH_PARAMETER = path_parameter("platform", PLATFORM_CODE_PATTERN.pattern,
                                         "the platform's code")
KEY_PATH_PARAMETER = path_parameter("key_id", KEY_ID_PATTERN, "the key's id")


def _moment(description: str = "", **options: Any) -> fields.String:
    return fields.String(metadata={"format": "date-time", "description": description},
                         **options)


def _username(**options: Any) -> fields.String:
    return fields.String(validate=FullMatch(USERNAME_PATTERN, error="must be 2-64 of "
                                            "[a-z0-9._-], starting with a letter or digit"),
                         **options)


def _role(**options: Any) -> fields.String:
    return fields.String(validate=validate.OneOf(ROLES), **options)


def _branch(description: str = "tellers and supervisors only",
            **options: Any) -> fields.String:
    return fields.String(validate=FullMatch(BRANCH_CODE_PATTERN,
                                            error="must be 1-32 of [A-Za-z0-9_-]"),
                         metadata={"description": description}, **options)


def _platform(description: str = "platform operators only", **options: Any) -> fields.String:
    return fields.String(validate=FullMatch(PLATFORM_CODE_PATTERN,
                                            error="must be 2-32 of [a-z0-9_], starting a-z"),
                         metadata={"description": description}, **options)


class UserSchema(Schema):
    username = fields.String(required=True)
    role = _role(required=True)
    branch = fields.String(required=True, allow_none=True)
    platform = fields.String(required=True, allow_none=True)
    disabled = fields.Boolean(required=True, metadata={
        "description": "a disabled user's tokens are refused (401)"})
    created_at = _moment(required=True)
    last_sign_in_at = _moment("last console sign-in", required=True, allow_none=True)


class UserPageSchema(Schema):
    items = fields.List(fields.Nested(UserSchema), required=True)
    next = fields.Integer(required=True, allow_none=True)


class NewUserSchema(Schema):
    username = _username(required=True)
    role = _role(required=True)
    branch = _branch(allow_none=True)
    platform = _platform(allow_none=True)


class UserUpdateSchema(Schema):
    """Given a role, the user's branch and platform become those given with it (none if
    absent); given only a branch or a platform, the role stays."""

    role = _role()
    branch = _branch(allow_none=True)
    platform = _platform(allow_none=True)
    disabled = StrictBoolean(metadata={
        "description": "true refuses every token of the user from the next request on"})

    @validates_schema
    def _something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data:
            raise ValidationError("give at least one of role, branch, platform, disabled")


class NewTokenSchema(Schema):
    ttl_days = fields.Integer(strict=True, load_default=TOKEN_TTL_DAYS_DEFAULT,
                              validate=validate.Range(1, TOKEN_TTL_DAYS_MAX),
                              metadata={"description": "days until it expires"})


class TokenSchema(Schema):
    """A token as it may be shown: never its secret."""

    id = fields.Integer(required=True)
    username = fields.String(required=True)
    created_at = _moment(required=True)
    expires_at = _moment(required=True)
    last_used_at = _moment("recorded at most once a minute", required=True, allow_none=True)
    revoked_at = _moment(required=True, allow_none=True)


class CreatedTokenSchema(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    token = fields.String(required=True, metadata={
        "description": "the secret, shown this once: only its hash is kept"})
    created_at = _moment(required=True)
    expires_at = _moment(required=True)


class TokenPageSchema(Schema):
    items = fields.List(fields.Nested(TokenSchema), required=True)
    next = fields.Integer(required=True, allow_none=True)


class TokenQuerySchema(PageQuerySchema):
    username = _username(metadata={"description": "only this user's tokens"})


class NewPlatformSchema(Schema):
    code = _platform("the platform's code", required=True)
    name = fields.String(required=True, validate=validate.Length(1, NAME_LENGTH_MAX))
    township = fields.String(required=True, validate=validate.Length(1, NAME_LENGTH_MAX))


class NewKeySchema(Schema):
    public_key = fields.String(required=True, validate=validate.Length(1, 100), metadata={
        "description": "the platform's Ed25519 public key, whpk_<base64 of 32 bytes>"})


class KeySchema(Schema):
    key_id = fields.String(required=True)
    platform = fields.String(required=True)
    public_key = fields.String(required=True)
    revoked_at = _moment("retired (or compromised) since", required=True, allow_none=True)
    compromised_at = _moment("declared compromised since", required=True, allow_none=True)


class KeyRevocationSchema(Schema):
    compromised = StrictBoolean(load_default=False, metadata={
        "description": "false: retired (rotation: its backlog signed before now still counts "
                       "for a grace); true: leaked, nothing received from now on counts"})


class NewBranchSchema(Schema):
    code = _branch("the branch's code", required=True)
    name = fields.String(required=True, validate=validate.Length(1, 200))


class BranchSchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    created_at = _moment(required=True)
