"""Which Volumetrica protocol the server speaks, and frames translated to and from it (pure).

Everything above this module speaks one model: the v5.1 messages of `proto/volumetrica.proto`.
A server may still speak vendor v5 (04/2024), whose order quantities and client ids are int32
where v5.1 has zigzag sint64 (the list is in the proto, before the `...V5` messages). Both are
varints, so nothing fails when the two sides disagree: a v5.1 sell of -2 (zigzag 3) is a v5 buy
of 3, and a v5 buy of 3 is a v5.1 sell of 2. So the version is read at every login, frames are
translated at the socket (`encode_client`/`decode_server` for the adapter, `decode_client`/
`encode_server` for the simulator), and a server whose version is unknown is refused.

How the version is known: `LoginResponseMsg.Version` (field 4, sint64) exists since v5.1; the
v5 LoginResponseMsg has only Success and Reason (vendor proto "VERSION: 5 - 04/15/2024", C# example
folder of the integration pack; public copy: github.com/apptradescale-glitch/PropMap, "Platform
Development/C# - Example/PropTradingProtocol.proto"). So no version means v5. Which number a v5.1
server puts there is documented nowhere we could read (the v5.1 proto has no comment on it and
the Trading API v4.0 PDF of 03/2025 predates it): 51 ("5.1" without its dot) is our reading, and
it is the simulator's; any other number is refused with the number named, so a real server that
says something else is found out at its first login instead of by a reversed order.

A second check catches a server that omits the version but is not v5: v5 account headers end at
field 6, so a v5.1-only field there (currency, mode, permission, ...) contradicts "v5".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from sidedesk.brokers.volumetrica.protocol import volumetrica_pb2 as pb


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str  # as the vendor writes it: "5", "5.1"
    wide: bool  # quantities and client ids are sint64 (v5.1); int32 otherwise (v5)

    def __str__(self) -> str:
        return f"v{self.name}"


V5: Final = Dialect("5", wide=False)
V5_1: Final = Dialect("5.1", wide=True)
# LoginResponseMsg.Version -> dialect (module docstring: 0 is "no field", 51 is our reading)
KNOWN: Final[dict[int, Dialect]] = {0: V5, 51: V5_1}
REPORTED: Final[dict[Dialect, int]] = {d: n for n, d in KNOWN.items()}
_V5_HEADER_LAST: Final = max(f.number for f in pb.AccountHeaderMsgV5.DESCRIPTOR.fields)  # 6


@dataclass(frozen=True, slots=True)
class Unknown:
    """The login answer named a version we cannot speak."""

    version: int

    @property
    def message(self) -> str:
        return (
            f"Volumetrica's server reports protocol version {self.version}, which this Sidedesk does "
            "not know (it speaks 5 and 5.1): it does not trade there, because a version it misreads "
            "can turn a sell into a buy. Update Sidedesk, or report the number"
        )


class Unencodable(ValueError):
    """A value does not fit the dialect's field (an id or quantity beyond int32 for v5)."""


def from_login(ans: pb.LoginResponseMsg) -> Dialect | Unknown:
    return KNOWN.get(ans.version) or Unknown(ans.version)


class Mismatch(ValueError):
    """The server's frames contradict the version it reported: nothing it says can be trusted."""


def _v5_contradiction(frame: bytes) -> str | None:
    """Why a frame read as v5 cannot be v5: an account header with a field v5 does not have."""
    raw = pb.ServerResponseMsg.FromString(frame)  # field numbers as on the wire
    for acc in raw.info_msg.account_list:
        extra = sorted(f.name for f, _ in acc.ListFields() if f.number > _V5_HEADER_LAST)
        if extra:
            return (
                "Volumetrica's server reports no protocol version (as v5 servers do) but sends "
                f"account fields v5 does not have ({', '.join(extra)}): its quantities cannot be "
                "read safely, so Sidedesk does not trade there"
            )
    return None


# -- translation ----------------------------------------------------------------------------------


def translate(src: Message, dst: Message) -> None:
    """Copy every set field of `src` into `dst` by name (the dialects' messages share names);
    a field `dst` has no namesake for does not exist in that dialect and is left out. Raises
    Unencodable when a value does not fit `dst`'s field (int32)."""
    fields = dst.DESCRIPTOR.fields_by_name
    for fd, value in src.ListFields():
        target = fields.get(fd.name)
        if target is None:
            continue
        if fd.type == FieldDescriptor.TYPE_MESSAGE:
            if fd.is_repeated:
                into = getattr(dst, fd.name)
                for item in value:
                    translate(item, into.add())
            else:
                sub = getattr(dst, fd.name)
                sub.SetInParent()  # an empty sub-message is still there
                translate(value, sub)
            continue
        try:
            if fd.is_repeated:
                getattr(dst, fd.name).extend(value)
            else:
                setattr(dst, fd.name, value)
        except (ValueError, TypeError) as exc:
            raise Unencodable(
                f"{src.DESCRIPTOR.name}.{fd.name} = {value} does not fit protocol v5's 32-bit field"
            ) from exc


def encode_client(frame: bytes, dialect: Dialect) -> bytes:
    """A client frame built in the v5.1 model, as `dialect` expects it on the wire."""
    if dialect.wide:
        return frame
    src = pb.ClientRequestMsg.FromString(frame)
    dst = pb.ClientRequestMsgV5()
    translate(src, dst)
    return dst.SerializeToString()


def decode_client(frame: bytes, dialect: Dialect) -> pb.ClientRequestMsg:
    """The simulator's reader: a client frame of `dialect` in the v5.1 model (DecodeError if not protobuf)."""
    if dialect.wide:
        return pb.ClientRequestMsg.FromString(frame)
    out = pb.ClientRequestMsg()
    translate(pb.ClientRequestMsgV5.FromString(frame), out)
    return out


def decode_server(frame: bytes, dialect: Dialect | None) -> pb.ServerResponseMsg:
    """A server frame in the v5.1 model. Before the login answer names the dialect (None) it is
    read as v5.1, which keeps the answer's Version (v5 has no such field). Mismatch when a
    frame read as v5 has what v5 does not (module docstring); DecodeError when not protobuf."""
    if dialect is None or dialect.wide:
        return pb.ServerResponseMsg.FromString(frame)
    v5 = pb.ServerResponseMsgV5.FromString(frame)
    if v5.HasField("info_msg") and (why := _v5_contradiction(frame)):
        raise Mismatch(why)
    out = pb.ServerResponseMsg()
    translate(v5, out)
    return out


def encode_server(msg: pb.ServerResponseMsg, dialect: Dialect) -> bytes:
    """The simulator's writer: a v5.1-model server message as `dialect` sends it."""
    if dialect.wide:
        return msg.SerializeToString()
    out = pb.ServerResponseMsgV5()
    translate(msg, out)
    return out.SerializeToString()


__all__ = [
    "KNOWN",
    "REPORTED",
    "V5",
    "V5_1",
    "DecodeError",
    "Dialect",
    "Mismatch",
    "Unencodable",
    "Unknown",
    "decode_client",
    "decode_server",
    "encode_client",
    "encode_server",
    "from_login",
    "translate",
]
