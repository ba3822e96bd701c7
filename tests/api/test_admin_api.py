"""Taking access away, over HTTP (SPEC §12): users disabled, tokens revoked, roles changed, and
every change in the audit trail, without a secret."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient

from ledger.bootstrap import Ledger
from ledger.contract.webhook import encode_public_key, public_key_bytes
from ledger.service.audit_trail import verify_audit_trail
from tests.api.support import BRANCH, Tokens, bearer, user_of_role
from tests.support import RESIDENT_A, PlatformFixture

API = "/api/v1"


def _admin(tokens: Tokens) -> dict[str, str]:
    return bearer(tokens.by_role["admin"])


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.json
    return response.json


def _problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.json
    assert response.content_type == "application/problem+json"
    problem: dict[str, Any] = response.json
    if code is not None:
        assert problem["code"] == code, problem
    return problem


def _new_token(client: FlaskClient, tokens: Tokens, username: str) -> dict[str, Any]:
    created: dict[str, Any] = _ok(client.post(f"{API}/users/{username}/tokens", json={},
                                              headers=_admin(tokens)), 201)
    return created


def test_a_disabled_users_token_is_refused_on_the_very_next_request(
        client: FlaskClient, tokens: Tokens) -> None:
    teller = bearer(tokens.by_role["teller"])
    _ok(client.get(f"{API}/ledger/head", headers=teller))

    patched = _ok(client.patch(f"{API}/users/{user_of_role('teller')}",
                               json={"disabled": True}, headers=_admin(tokens)))

    assert patched["disabled"] is True
    _problem(client.get(f"{API}/ledger/head", headers=teller), 401, "invalid_token")
    # Every token of theirs, including one made before, and no new one while disabled.
    _problem(client.post(f"{API}/users/{user_of_role('teller')}/tokens", json={},
                         headers=_admin(tokens)), 409, "user_disabled")
    _ok(client.patch(f"{API}/users/{user_of_role('teller')}", json={"disabled": False},
                     headers=_admin(tokens)))
    _ok(client.get(f"{API}/ledger/head", headers=teller))


def test_a_revoked_token_is_refused_on_the_very_next_request(
        client: FlaskClient, tokens: Tokens) -> None:
    created = _new_token(client, tokens, user_of_role("auditor"))
    assert created["token"].startswith("plt_")
    fresh = bearer(created["token"])
    _ok(client.get(f"{API}/ledger/head", headers=fresh))

    revoked = _ok(client.post(f"{API}/tokens/{created['id']}/revoke", headers=_admin(tokens)))

    assert revoked["revoked_at"] is not None and revoked["id"] == created["id"]
    _problem(client.get(f"{API}/ledger/head", headers=fresh), 401, "invalid_token")
    # The user's other token is untouched.
    _ok(client.get(f"{API}/ledger/head", headers=bearer(tokens.by_role["auditor"])))
    _problem(client.post(f"{API}/tokens/{created['id']}/revoke", headers=_admin(tokens)),
             409, "already_revoked")
    # Ids beyond a 32-bit column but within what the API lets through find nothing.
    for unknown in (424242, 2**31, 2**63 - 1):
        _problem(client.post(f"{API}/tokens/{unknown}/revoke", headers=_admin(tokens)), 404)


def test_tokens_are_listed_with_their_last_use_and_never_their_secret(
        client: FlaskClient, tokens: Tokens) -> None:
    created = _new_token(client, tokens, user_of_role("auditor"))
    _ok(client.get(f"{API}/ledger/head", headers=bearer(created["token"])))

    listed = client.get(f"{API}/tokens", query_string={"username": user_of_role("auditor")},
                        headers=_admin(tokens))

    items = _ok(listed)["items"]
    assert {item["username"] for item in items} == {user_of_role("auditor")}
    (mine,) = [item for item in items if item["id"] == created["id"]]
    assert set(mine) == {"id", "username", "created_at", "expires_at", "last_used_at",
                         "revoked_at"}
    assert mine["last_used_at"] is not None and mine["revoked_at"] is None
    assert created["token"] not in listed.get_data(as_text=True)
    everyone = _ok(client.get(f"{API}/tokens", query_string={"limit": 2},
                              headers=_admin(tokens)))
    assert len(everyone["items"]) == 2 and everyone["next"] is not None
    _problem(client.get(f"{API}/tokens", query_string={"username": "nobody"},
                        headers=_admin(tokens)), 404)


def test_a_new_role_changes_what_the_user_may_do_at_once(
        client: FlaskClient, tokens: Tokens) -> None:
    auditor = bearer(tokens.by_role["auditor"])
    _ok(client.get(f"{API}/ledger/entries", headers=auditor))
    _problem(client.get(f"{API}/residents/{RESIDENT_A}/credit-terms",
                        headers=bearer(tokens.by_role["teller"])), 403)

    changed = _ok(client.patch(f"{API}/users/{user_of_role('auditor')}",
                               json={"role": "teller", "branch": BRANCH},
                               headers=_admin(tokens)))

    assert (changed["role"], changed["branch"], changed["platform"]) == ("teller", BRANCH, None)
    _problem(client.get(f"{API}/ledger/entries", headers=auditor), 403, "forbidden")
    _ok(client.get(f"{API}/branches/{BRANCH}/stock", headers=auditor))


def test_users_are_listed_disabled_ones_too(client: FlaskClient, tokens: Tokens) -> None:
    _ok(client.patch(f"{API}/users/user-late", json={"disabled": True}, headers=_admin(tokens)))

    first = _ok(client.get(f"{API}/users", query_string={"limit": 3}, headers=_admin(tokens)))
    rest = _ok(client.get(f"{API}/users", query_string={"after": first["next"]},
                          headers=_admin(tokens)))

    users = {user["username"]: user for user in first["items"] + rest["items"]}
    assert rest["next"] is None
    assert users["user-late"]["disabled"] is True
    assert users[user_of_role("teller")] == {
        "username": "user-teller", "role": "teller", "branch": BRANCH, "platform": None,
        "disabled": False, "created_at": users["user-teller"]["created_at"],
        "last_sign_in_at": None}


def test_the_last_enabled_admin_stays_one(client: FlaskClient, tokens: Tokens) -> None:
    admin = user_of_role("admin")
    _problem(client.patch(f"{API}/users/{admin}", json={"disabled": True},
                          headers=_admin(tokens)), 409, "last_admin")
    _problem(client.patch(f"{API}/users/{admin}", json={"role": "auditor"},
                          headers=_admin(tokens)), 409, "last_admin")
    _ok(client.post(f"{API}/users", json={"username": "second-admin", "role": "admin"},
                    headers=_admin(tokens)), 201)
    _ok(client.patch(f"{API}/users/{admin}", json={"role": "auditor"}, headers=_admin(tokens)))


@pytest.mark.parametrize(("body", "field"), [
    ({"username": "Big Name", "role": "auditor"}, "username"),
    ({"username": "x", "role": "auditor"}, "username"),
    ({"username": "someone", "role": "janitor"}, "role"),
    ({"username": "someone"}, "role"),
    ({"username": "someone", "role": "auditor", "branch": "no spaces"}, "branch"),
    ({"username": "someone", "role": "auditor", "admin": True}, "admin"),
])
def test_a_bad_new_user_is_a_problem_naming_the_field(
        client: FlaskClient, tokens: Tokens, body: dict[str, Any], field: str) -> None:
    problem = _problem(client.post(f"{API}/users", json=body, headers=_admin(tokens)), 422,
                       "invalid_input")
    assert field in problem["errors"]


@pytest.mark.parametrize(("body", "status", "fragment"), [
    ({"username": "someone", "role": "teller"}, 422, "belongs to a branch"),
    ({"username": "someone", "role": "auditor", "branch": BRANCH}, 422,
     "does not belong to a branch"),
    ({"username": "someone", "role": "platform_operator"}, 422, "bound to one platform"),
    ({"username": "someone", "role": "monitor", "platform": "lijiayuan"}, 422,
     "not bound to a platform"),
    ({"username": "someone", "role": "teller", "branch": "NOPE"}, 404, "NOPE"),
    ({"username": "someone", "role": "platform_operator", "platform": "nowhere"}, 404,
     "nowhere"),
    ({"username": "user-teller", "role": "auditor"}, 409, "already exists"),
])
def test_a_user_the_bank_cannot_have_is_refused(
        client: FlaskClient, tokens: Tokens, body: dict[str, Any], status: int,
        fragment: str) -> None:
    problem = _problem(client.post(f"{API}/users", json=body, headers=_admin(tokens)), status)
    assert fragment in problem["detail"]


@pytest.mark.parametrize("body", [{}, {"disabled": 0}, {"disabled": "true"},
                                  {"role": "auditor", "password": "x" * 20}])
def test_a_bad_user_change_is_a_problem(client: FlaskClient, tokens: Tokens,
                                        body: dict[str, Any]) -> None:
    _problem(client.patch(f"{API}/users/user-late", json=body, headers=_admin(tokens)), 422,
             "invalid_input")


def test_a_change_to_an_unknown_user_is_404(client: FlaskClient, tokens: Tokens) -> None:
    _problem(client.patch(f"{API}/users/nobody", json={"disabled": True},
                          headers=_admin(tokens)), 404, "unknown_user")
    _problem(client.post(f"{API}/users/nobody/tokens", json={}, headers=_admin(tokens)), 404)


@pytest.mark.parametrize(("path", "body"), [
    ("/keys/key_0000000000000000/revoke", {"compromised": "yes"}),
    ("/keys/key_0000000000000000/revoke", {"compromised": 1}),
    ("/platforms/lijiayuan/keys", {"public_key": "whsk_" + "A" * 43 + "="}),
    ("/platforms", {"code": "Li Jia Yuan", "name": "沥家园", "township": "瓜沥镇"}),
    ("/platforms", {"code": "lijiayuan", "name": "", "township": "瓜沥镇"}),
    ("/branches", {"code": "GL01"}),
    ("/users/user-late/tokens", {"ttl_days": 0}),
    ("/users/user-late/tokens", {"ttl_days": "30"}),
])
def test_bad_registry_input_is_a_422_problem(client: FlaskClient, tokens: Tokens,
                                             platform: PlatformFixture, path: str,
                                             body: dict[str, Any]) -> None:
    _problem(client.post(f"{API}{path}", json=body, headers=_admin(tokens)), 422)


def test_keys_are_registered_and_revoked_in_two_kinds(
        client: FlaskClient, tokens: Tokens, platform: PlatformFixture) -> None:
    public_key = encode_public_key(public_key_bytes(Ed25519PrivateKey.generate()))
    added = _ok(client.post(f"{API}/platforms/lijiayuan/keys", json={"public_key": public_key},
                            headers=_admin(tokens)), 201)
    assert (added["platform"], added["public_key"], added["revoked_at"]) == (
        "lijiayuan", public_key, None)
    _problem(client.post(f"{API}/platforms/lijiayuan/keys", json={"public_key": public_key},
                         headers=_admin(tokens)), 409)
    _problem(client.post(f"{API}/platforms/nowhere/keys", json={"public_key": public_key},
                         headers=_admin(tokens)), 404)

    retired = _ok(client.post(f"{API}/keys/{added['key_id']}/revoke", json={},
                              headers=_admin(tokens)))
    assert retired["revoked_at"] is not None and retired["compromised_at"] is None
    _problem(client.post(f"{API}/keys/{added['key_id']}/revoke", json={},
                         headers=_admin(tokens)), 409)
    compromised = _ok(client.post(f"{API}/keys/{added['key_id']}/revoke",
                                  json={"compromised": True}, headers=_admin(tokens)))
    assert compromised["compromised_at"] is not None
    assert compromised["revoked_at"] == retired["revoked_at"]
    _problem(client.post(f"{API}/keys/key_0000000000000000/revoke", json={},
                         headers=_admin(tokens)), 404)


def test_platforms_and_branches_are_registered_once(client: FlaskClient,
                                                    tokens: Tokens) -> None:
    platform = {"code": "pingan", "name": "平安共富积分", "township": "党湾镇"}
    assert _ok(client.post(f"{API}/platforms", json=platform, headers=_admin(tokens)), 201) \
        == {**platform, "last_seq": 0, "gaps": []}
    _problem(client.post(f"{API}/platforms", json=platform, headers=_admin(tokens)), 409)
    branch = _ok(client.post(f"{API}/branches", json={"code": "GL02", "name": "瓜沥支行"},
                             headers=_admin(tokens)), 201)
    assert (branch["code"], branch["name"]) == ("GL02", "瓜沥支行")
    _problem(client.post(f"{API}/branches", json={"code": "GL02", "name": "again"},
                         headers=_admin(tokens)), 409)


def test_every_change_is_in_the_audit_trail_with_its_actor_and_no_secret(
        client: FlaskClient, ledger: Ledger, tokens: Tokens, platform: PlatformFixture) -> None:
    admin = _admin(tokens)
    _ok(client.post(f"{API}/branches", json={"code": "GL02", "name": "瓜沥支行"},
                    headers=admin), 201)
    _ok(client.post(f"{API}/platforms", json={"code": "pingan", "name": "平安共富积分",
                                              "township": "党湾镇"}, headers=admin), 201)
    key = _ok(client.post(f"{API}/platforms/pingan/keys", json={"public_key": encode_public_key(
        public_key_bytes(Ed25519PrivateKey.generate()))}, headers=admin), 201)
    _ok(client.post(f"{API}/keys/{key['key_id']}/revoke", json={"compromised": True},
                    headers=admin))
    _ok(client.post(f"{API}/users", json={"username": "pingan-ops", "role": "platform_operator",
                                          "platform": "pingan"}, headers=admin), 201)
    _ok(client.patch(f"{API}/users/pingan-ops", json={"platform": "lijiayuan"}, headers=admin))
    _ok(client.patch(f"{API}/users/pingan-ops", json={"disabled": True}, headers=admin))
    _ok(client.patch(f"{API}/users/pingan-ops", json={"disabled": False}, headers=admin))
    created = _new_token(client, tokens, "pingan-ops")
    _ok(client.post(f"{API}/tokens/{created['id']}/revoke", headers=admin))
    _ok(client.post(f"{API}/gifts", json={"sku": "RICE", "name": "大米", "points_cost": 10},
                    headers=admin), 201)
    _ok(client.patch(f"{API}/gifts/RICE", json={"active": False}, headers=admin))
    # A change that changes nothing is not an event.
    _ok(client.patch(f"{API}/users/pingan-ops", json={"disabled": False}, headers=admin))

    trail = client.get(f"{API}/audit", query_string={"limit": 1000},
                       headers=bearer(tokens.by_role["auditor"]))

    events = _ok(trail)["items"]
    assert [(event["action"], event["subject"]) for event in events] == [
        ("branch.added", "branch:GL02"),
        ("platform.added", "platform:pingan"),
        ("key.added", f"key:{key['key_id']}"),
        ("key.compromised", f"key:{key['key_id']}"),
        ("user.added", "user:pingan-ops"),
        ("user.role_changed", "user:pingan-ops"),
        ("user.disabled", "user:pingan-ops"),
        ("user.enabled", "user:pingan-ops"),
        ("token.created", f"token:{created['id']}"),
        ("token.revoked", f"token:{created['id']}"),
        ("gift.added", "gift:RICE"),
        ("gift.deactivated", "gift:RICE"),
    ]
    assert {event["actor"] for event in events} == {user_of_role("admin")}
    assert events[5]["details"] == {
        "before": {"role": "platform_operator", "branch": None, "platform": "pingan"},
        "after": {"role": "platform_operator", "branch": None, "platform": "lijiayuan"}}
    text = json.dumps(events)
    assert created["token"] not in text and created["token"][4:] not in text
    with ledger.sessions() as session:
        assert verify_audit_trail(session).intact


def test_a_failed_change_leaves_no_event(client: FlaskClient, tokens: Tokens) -> None:
    _problem(client.post(f"{API}/users", json={"username": "user-teller", "role": "auditor"},
                         headers=_admin(tokens)), 409)
    _problem(client.patch(f"{API}/users/{user_of_role('admin')}", json={"disabled": True},
                          headers=_admin(tokens)), 409)
    assert _ok(client.get(f"{API}/audit", headers=_admin(tokens)))["items"] == []
