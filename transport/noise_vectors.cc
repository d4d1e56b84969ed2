#include "transport/noise_vectors.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "transport/noise_handshake_state.h"
#include "transport/noise_pattern.h"

namespace meshslice::noise {
namespace {

using nlohmann::json;

// Thrown only inside this file and caught per vector: a vector with a bad field fails alone.
struct VectorError {
  std::string reason;
};

Bytes hexField(const json& v, const char* key) {
  Bytes out;
  if (!v.contains(key) || !v[key].is_string() || !fromHex(v[key].get<std::string>(), out)) {
    throw VectorError{std::string("field ") + key + " missing or not hex"};
  }
  return out;
}

Key32 keyField(const json& v, const char* key) {
  Bytes b = hexField(v, key);
  if (b.size() != 32) throw VectorError{std::string("field ") + key + " is not 32 bytes"};
  Key32 k;
  std::copy(b.begin(), b.end(), k.begin());
  return k;
}

HandshakeConfig partyConfig(const json& v, bool initiator) {
  const std::string p = initiator ? "init_" : "resp_";
  auto has = [&](const std::string& k) { return v.contains(p + k); };
  HandshakeConfig c;
  c.protocol_name = v.at("protocol_name").get<std::string>();
  c.initiator = initiator;
  c.prologue = hexField(v, (p + "prologue").c_str());
  if (has("static")) c.local_static = keyPairFromPrivate(keyField(v, (p + "static").c_str()));
  if (has("ephemeral")) {
    c.fixed_ephemeral = keyPairFromPrivate(keyField(v, (p + "ephemeral").c_str()));
  }
  if (has("remote_static")) c.remote_static = keyField(v, (p + "remote_static").c_str());
  if (has("psks")) {
    for (const json& psk : v.at(p + "psks")) {
      Bytes b;
      if (!psk.is_string() || !fromHex(psk.get<std::string>(), b) || b.size() != 32) {
        throw VectorError{"bad psk"};
      }
      Key32 k;
      std::copy(b.begin(), b.end(), k.begin());
      c.psks.push_back(k);
    }
  }
  return c;
}

HandshakeState makeParty(const json& v, bool initiator) {
  auto hs = HandshakeState::create(partyConfig(v, initiator));
  if (!hs.isOk()) throw VectorError{"create: " + hs.status().toString()};
  return std::move(hs).value();
}

void expectEqual(const Bytes& got, const Bytes& want, const std::string& what) {
  if (got != want) throw VectorError{what + ": got " + toHex(got) + ", want " + toHex(want)};
}

// Sends one message from `from` to `to` through the given pair of operations and checks both
// the wire bytes and the payload that comes out.
template <typename Write, typename Read>
void exchange(const json& m, size_t index, Write write, Read read) {
  const std::string at = "message " + std::to_string(index);
  Bytes payload = hexField(m, "payload");
  Bytes want = hexField(m, "ciphertext");
  Result<Bytes> wire = write(payload);
  if (!wire.isOk()) throw VectorError{at + " write: " + wire.status().toString()};
  expectEqual(wire.value(), want, at + " ciphertext");
  Result<Bytes> got = read(wire.value());
  if (!got.isOk()) throw VectorError{at + " read: " + got.status().toString()};
  expectEqual(got.value(), payload, at + " payload");
}

void runVector(const json& v) {
  HandshakeState init = makeParty(v, true);
  HandshakeState resp = makeParty(v, false);
  const json& messages = v.at("messages");
  size_t i = 0;
  for (; i < messages.size() && !(init.isFinished() && resp.isFinished()); ++i) {
    HandshakeState& w = init.writeTurn() ? init : resp;
    HandshakeState& r = init.writeTurn() ? resp : init;
    exchange(
        messages[i], i, [&](const Bytes& p) { return w.writeMessage(p); },
        [&](const Bytes& c) { return r.readMessage(c); });
  }
  if (!init.isFinished() || !resp.isFinished()) throw VectorError{"handshake did not finish"};
  const Hash& hi = init.handshakeHash();
  // Optional in the format (other implementations' files omit it): checked when present.
  if (v.contains("handshake_hash")) {
    expectEqual(Bytes(hi.begin(), hi.end()), hexField(v, "handshake_hash"), "handshake_hash");
  }
  expectEqual(Bytes(hi.begin(), hi.end()),
              Bytes(resp.handshakeHash().begin(), resp.handshakeHash().end()),
              "responder handshake hash");

  auto ti = init.splitForTransport();
  auto tr = resp.splitForTransport();
  if (!ti.isOk() || !tr.isOk()) throw VectorError{"split failed"};
  const bool one_way = init.pattern().oneWay();
  for (; i < messages.size(); ++i) {
    bool from_initiator = one_way || i % 2 == 0;
    CipherState& send = from_initiator ? ti->send : tr->send;
    CipherState& recv = from_initiator ? tr->recv : ti->recv;
    exchange(
        messages[i], i, [&](const Bytes& p) { return send.encryptWithAd({}, p); },
        [&](const Bytes& c) { return recv.decryptWithAd({}, c); });
  }
}

// Classifies one vector into the summary.
void runOne(const json& v, VectorSummary& out) {
  std::string name = "(unnamed vector)";
  try {
    name = v.at("protocol_name").get<std::string>();
    auto parts = splitProtocolName(name);
    if (parts.isOk() && !isSupportedSuite(parts.value())) {
      ++out.skipped;
      return;
    }
    runVector(v);
    ++out.passed;
  } catch (const VectorError& e) {
    ++out.failed;
    out.failures.push_back(name + ": " + e.reason);
  } catch (const json::exception& e) {
    ++out.failed;
    out.failures.push_back(name + ": bad vector: " + e.what());
  }
}

}  // namespace

void VectorSummary::add(const VectorSummary& other) {
  passed += other.passed;
  failed += other.failed;
  skipped += other.skipped;
  failures.insert(failures.end(), other.failures.begin(), other.failures.end());
}

std::string VectorSummary::line() const {
  std::string s = std::to_string(passed) + " passed, " + std::to_string(failed) + " failed";
  if (skipped > 0) s += ", " + std::to_string(skipped) + " skipped";
  return s;
}

Result<VectorSummary> runNoiseVectorsJson(std::string_view json_text) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return malformed("noise vectors: not valid JSON");
  if (!doc.is_object() || !doc.contains("vectors") || !doc["vectors"].is_array()) {
    return malformed("noise vectors: expected an object with a \"vectors\" array");
  }
  VectorSummary summary;
  for (const json& v : doc["vectors"]) runOne(v, summary);
  return summary;
}

Result<VectorSummary> runNoiseVectorFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ioError("noise vectors: cannot open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return ioError("noise vectors: cannot read " + path);
  return runNoiseVectorsJson(text.str());
}

}  // namespace meshslice::noise
