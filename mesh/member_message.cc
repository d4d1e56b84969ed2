#include "mesh/member_message.h"

#include <cassert>
#include <span>
#include <string>

#include "base/msgpack_limits.h"
#include "base/msgpack_writer.h"

namespace meshslice {

namespace {

using Elements = std::span<const msgpack::object>;

// Elements of each type, including the type code; 0 for codes that are not membership types.
size_t arityOf(uint64_t type) {
  switch (static_cast<MemberMessageType>(type)) {
    case MemberMessageType::kPing:
    case MemberMessageType::kAck:
    case MemberMessageType::kNack: return 4;
    case MemberMessageType::kPingReq: return 5;
    case MemberMessageType::kGossip: return 3;
  }
  return 0;
}

bool hasSeq(MemberMessageType t) { return t != MemberMessageType::kGossip; }

void packUpdate(MsgpackWriter& w, const MemberUpdate& u) {
  w.packer().pack_array(4);
  w.packBin(u.member.view());
  w.packer().pack_uint64(static_cast<uint64_t>(u.state));
  w.packer().pack_uint64(u.epoch);
  w.packBin(u.origin.view());
}

Status readDevice(const msgpack::object& o, DeviceId& out, const char* field) {
  DeviceId::Raw raw;
  MS_RETURN_IF_ERROR(readBinExact(o, raw, field));
  out = DeviceId(raw);
  if (out.isZero()) return malformed(std::string(field) + ": the zero device ID");
  return Status::ok();
}

Status readUpdate(const msgpack::object& o, MemberUpdate& u) {
  Elements e;
  MS_RETURN_IF_ERROR(readArrayExact(o, 4, e, "member.update"));
  MS_RETURN_IF_ERROR(readDevice(e[0], u.member, "member.update.member"));
  uint64_t state = 0;
  MS_RETURN_IF_ERROR(readUint(e[1], static_cast<uint64_t>(MemberState::kDead), state, "member.update.state"));
  u.state = static_cast<MemberState>(state);
  MS_RETURN_IF_ERROR(readUint(e[2], kMaxMemberEpoch, u.epoch, "member.update.epoch"));
  return readDevice(e[3], u.origin, "member.update.origin");
}

}  // namespace

const char* memberMessageTypeName(MemberMessageType type) {
  switch (type) {
    case MemberMessageType::kPing: return "ping";
    case MemberMessageType::kAck: return "ack";
    case MemberMessageType::kPingReq: return "ping-req";
    case MemberMessageType::kNack: return "nack";
    case MemberMessageType::kGossip: return "gossip";
  }
  return "unknown";
}

const char* memberStateName(MemberState state) {
  switch (state) {
    case MemberState::kAlive: return "alive";
    case MemberState::kSuspect: return "suspect";
    case MemberState::kDead: return "dead";
  }
  return "unknown";
}

Status validateMemberMessage(const MemberMessage& m) {
  if (arityOf(static_cast<uint64_t>(m.type)) == 0) return invalidArgument("member.type: unknown");
  if (m.sender_epoch > kMaxMemberEpoch) return invalidArgument("member.sender_epoch: above the limit");
  if (m.type == MemberMessageType::kPingReq && m.target.isZero()) {
    return invalidArgument("member.target: the zero device ID");
  }
  if (m.updates.size() > kMaxMemberUpdates) {
    return Status(Code::kTooLarge, "member.updates: more than " + std::to_string(kMaxMemberUpdates));
  }
  for (const MemberUpdate& u : m.updates) {
    if (u.member.isZero() || u.origin.isZero()) return invalidArgument("member.update: the zero device ID");
    if (u.epoch > kMaxMemberEpoch) return invalidArgument("member.update.epoch: above the limit");
    if (u.state > MemberState::kDead) return invalidArgument("member.update.state: unknown");
  }
  return Status::ok();
}

Bytes encodeMemberMessage(const MemberMessage& m) {
  assert(validateMemberMessage(m).isOk() && "encodeMemberMessage needs a valid message");
  Bytes out;
  MsgpackWriter w(out);
  auto& p = w.packer();
  p.pack_array(static_cast<uint32_t>(arityOf(static_cast<uint64_t>(m.type))));
  p.pack_uint64(static_cast<uint64_t>(m.type));
  p.pack_uint64(m.sender_epoch);
  if (hasSeq(m.type)) p.pack_uint64(m.seq);
  if (m.type == MemberMessageType::kPingReq) w.packBin(m.target.view());
  p.pack_array(static_cast<uint32_t>(m.updates.size()));
  for (const MemberUpdate& u : m.updates) packUpdate(w, u);
  return out;
}

Result<MemberMessage> decodeMemberMessage(ByteView bytes) {
  if (bytes.size() > kMaxMemberMessageSize) {
    return tooLarge("member: message of " + std::to_string(bytes.size()) + " bytes exceeds " +
                    std::to_string(kMaxMemberMessageSize));
  }
  auto handle = unpackBounded(bytes, kDeviceIdSize);
  if (!handle) return handle.status();
  const msgpack::object& root = handle.value().get();
  if (root.type != msgpack::type::ARRAY || root.via.array.size == 0) {
    return malformed("member: not a non-empty array");
  }
  uint64_t type = 0;
  MS_RETURN_IF_ERROR(readUint(root.via.array.ptr[0], UINT8_MAX, type, "member.type"));
  const size_t arity = arityOf(type);
  if (arity == 0) return malformed("member.type: " + std::to_string(type) + " is not a membership type");
  Elements e;
  MS_RETURN_IF_ERROR(readArrayExact(root, arity, e, "member"));
  MemberMessage m;
  m.type = static_cast<MemberMessageType>(type);
  MS_RETURN_IF_ERROR(readUint(e[1], kMaxMemberEpoch, m.sender_epoch, "member.sender_epoch"));
  size_t next = 2;
  if (hasSeq(m.type)) {
    uint64_t seq = 0;
    MS_RETURN_IF_ERROR(readUint(e[next++], kMaxMemberSeq, seq, "member.seq"));
    m.seq = static_cast<uint32_t>(seq);
  }
  if (m.type == MemberMessageType::kPingReq) MS_RETURN_IF_ERROR(readDevice(e[next++], m.target, "member.target"));
  Elements updates;
  MS_RETURN_IF_ERROR(readArray(e[next], 0, kMaxMemberUpdates, updates, "member.updates"));
  m.updates.resize(updates.size());
  for (size_t i = 0; i < updates.size(); ++i) MS_RETURN_IF_ERROR(readUpdate(updates[i], m.updates[i]));
  return m;
}

}  // namespace meshslice
