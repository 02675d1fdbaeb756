"""Users, access tokens and the penalty-ticket flow of the Tradovate simulator (brokers.md §1.2,
§1.9). Pure bookkeeping; time is an argument in epoch milliseconds.

- `auth/accesstokenrequest` checks name, password, cid and sec. Bad credentials are an HTTP 200
  with `errorText` (as Tradovate answers). A new request opens a new session.
- `auth/renewaccesstoken` issues a fresh token pair on the same session and extends its life.
- A session lives `token_ttl_ms` (80 minutes by default) from its last issue or renewal; once
  expired, its tokens are refused and its sockets are closed by the simulator.
- An armed penalty answers `{"p-ticket","p-time"[,"p-captcha"]}`; the identical body resent
  with that `p-ticket` after `p-time` seconds succeeds; earlier, it gets the remaining time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

TOKEN_TTL_MS = 80 * 60 * 1000
BAD_CREDENTIALS = "Incorrect username or password. Please try again."
BAD_APP = "The app is not registered or its credentials are wrong (cid/sec)"


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@dataclass
class SimAccount:
    id: int
    name: str  # accountSpec, e.g. DEMO700001
    user_id: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "userId": self.user_id,
            "accountType": "Customer",
            "active": True,
            "clearingHouseId": 2,
            "riskCategoryId": 2,
            "autoLiqProfileId": 2,
            "marginAccountType": "Speculator",
            "legalStatus": "Individual",
            "archived": False,
            "timestamp": "2026-01-01T00:00:00.000Z",
        }


@dataclass
class User:
    id: int
    name: str
    password: str
    cid: int
    sec: str
    accounts: list[SimAccount] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "timestamp": "2026-01-01T00:00:00.000Z",
            "email": f"{self.name}@example.invalid",
            "status": "Active",
            "professional": False,
            "organizationId": 1,
        }


@dataclass
class Session:
    id: int
    user: User
    access_token: str
    md_token: str
    expires_ms: int
    revoked: bool = False

    def alive(self, now_ms: int) -> bool:
        return not self.revoked and now_ms < self.expires_ms


@dataclass
class Penalty:
    ticket: str
    ready_ms: int
    captcha: bool


@dataclass
class ArmedPenalty:
    target: str  # "auth" or an endpoint (lower case), "*" for any
    seconds: int
    captcha: bool
    count: int


class Auth:
    def __init__(self, token_ttl_ms: int = TOKEN_TTL_MS) -> None:
        self.token_ttl_ms = token_ttl_ms
        self.users: dict[str, User] = {}
        self._sessions: dict[int, Session] = {}
        self._by_token: dict[str, tuple[Session, str]] = {}  # token -> (session, "access"|"md")
        self._next_session = 1
        self._next_user = 123_456
        self._next_account = 700_001
        self.penalties: dict[str, Penalty] = {}  # outstanding tickets
        self.armed: list[ArmedPenalty] = []

    # -- users ---------------------------------------------------------------------------------
    def add_user(self, name: str, password: str, cid: int, sec: str, accounts: int = 1) -> User:
        if name.lower() in self.users:
            raise ValueError(f"user {name!r} exists")
        if not name or not password or not sec or accounts < 1:
            raise ValueError("name, password and sec must be non-empty; accounts ≥ 1")
        user = User(self._next_user, name, password, cid, sec)
        self._next_user += 1
        for _ in range(accounts):
            user.accounts.append(SimAccount(self._next_account, f"DEMO{self._next_account}", user.id))
            self._next_account += 1
        self.users[name.lower()] = user
        return user

    # -- penalties -----------------------------------------------------------------------------
    def arm_penalty(self, target: str, seconds: int, captcha: bool, count: int) -> None:
        self.armed.append(ArmedPenalty(target.lower(), seconds, captcha, count))

    def penalize(self, target: str, body: dict[str, Any] | None, now_ms: int) -> dict[str, Any] | None:
        """The penalty answer for this request, or None to let it through.

        A request carrying a known ticket whose wait is over passes (and consumes the ticket);
        one that comes too early gets the same ticket with the remaining wait."""
        ticket = body.get("p-ticket") if isinstance(body, dict) else None
        if isinstance(ticket, str) and ticket in self.penalties:
            p = self.penalties[ticket]
            if now_ms >= p.ready_ms and not p.captcha:
                del self.penalties[ticket]
                return None
            return self._answer(ticket, p, now_ms)
        for armed in self.armed:
            if armed.target in ("*", target.lower()):
                armed.count -= 1
                if armed.count <= 0:
                    self.armed.remove(armed)
                ticket = secrets.token_hex(16)
                p = Penalty(ticket, now_ms + armed.seconds * 1000, armed.captcha)
                self.penalties[ticket] = p
                return self._answer(ticket, p, now_ms)
        return None

    @staticmethod
    def _answer(ticket: str, p: Penalty, now_ms: int) -> dict[str, Any]:
        out: dict[str, Any] = {"p-ticket": ticket, "p-time": max(1, -(-(p.ready_ms - now_ms) // 1000))}
        if p.captcha:
            out["p-captcha"] = True
        return out

    # -- tokens --------------------------------------------------------------------------------
    def request_token(self, body: Any, now_ms: int) -> dict[str, Any]:
        """The AccessTokenResponse (or `errorText`) for an `auth/accesstokenrequest` body."""
        if not isinstance(body, dict):
            return {"errorText": "The request body must be a JSON object"}
        name, password = body.get("name"), body.get("password")
        if not isinstance(name, str) or not isinstance(password, str):
            return {"errorText": BAD_CREDENTIALS}
        user = self.users.get(name.lower())
        if user is None or not secrets.compare_digest(user.password, password):
            return {"errorText": BAD_CREDENTIALS}
        cid = body.get("cid")
        try:
            cid_ok = int(str(cid)) == user.cid
        except ValueError:
            cid_ok = False
        if not cid_ok or not isinstance(body.get("sec"), str) or body["sec"] != user.sec:
            return {"errorText": BAD_APP}
        session = Session(self._next_session, user, "", "", 0)
        self._next_session += 1
        self._sessions[session.id] = session
        return self._issue(session, now_ms)

    def renew(self, token: str, now_ms: int) -> dict[str, Any] | None:
        """A fresh token pair on the same session; None when `token` is not a live access token."""
        found = self._by_token.get(token)
        if found is None or found[1] != "access" or not found[0].alive(now_ms):
            return None
        return self._issue(found[0], now_ms)

    def _issue(self, session: Session, now_ms: int) -> dict[str, Any]:
        session.access_token = "sim-at-" + secrets.token_urlsafe(24)
        session.md_token = "sim-md-" + secrets.token_urlsafe(24)
        session.expires_ms = now_ms + self.token_ttl_ms
        # earlier tokens of the session stay valid until the session ends (renewal keeps sockets)
        self._by_token[session.access_token] = (session, "access")
        self._by_token[session.md_token] = (session, "md")
        u = session.user
        return {
            "accessToken": session.access_token,
            "mdAccessToken": session.md_token,
            "expirationTime": iso(session.expires_ms),
            "passwordExpirationTime": iso(now_ms + 180 * 86_400_000),
            "userStatus": "Active",
            "userId": u.id,
            "name": u.name,
            "hasLive": False,
        }

    def session_for(self, token: str, now_ms: int, *, md: bool = False) -> Session | None:
        """The live session of a token. The md socket takes either token (both appear in the
        official samples); the trading socket and REST take the access token only."""
        found = self._by_token.get(token)
        if found is None or not found[0].alive(now_ms):
            return None
        if found[1] == "md" and not md:
            return None
        return found[0]

    def expire_user(self, name: str) -> int:
        """Control plane: end every session of a user now; returns how many."""
        n = 0
        for s in self._sessions.values():
            if s.user.name.lower() == name.lower() and not s.revoked:
                s.revoked = True
                n += 1
        return n

    def sessions(self) -> list[Session]:
        return list(self._sessions.values())
