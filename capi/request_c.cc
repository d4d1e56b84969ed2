// The C API's requests and replies (capi/meshslice.h, "requests and replies"): ms_node_request
// on MessageBus::request, services on MessageBus::serve, responders on Responder.
#include "capi/capi_internal.h"

using namespace meshslice;
using namespace meshslice::capi;

namespace {

// Releases a responder handle (any thread).
void releaseResponder(ms_responder* r) {
  --r->owner->responders;
  delete r;
}

// Runs `answer(Responder&)` on the node's loop thread, where the bus lives.
template <typename F>
Status onLoopWithResponder(ms_responder* r, F&& answer) {
  return onLoop(r->owner, [r, &answer](MeshCore&) {
    answer(r->responder);
    return Status::ok();
  });
}

}  // namespace

extern "C" {

int ms_node_request(ms_node* n, const char* device_id, const char* ns, const void* data, size_t len,
                    uint32_t timeout_ms, ms_reply_fn fn, void* user) {
  MS_CAPI_REQUIRE(n);
  MS_CAPI_REQUIRE(device_id);
  MS_CAPI_REQUIRE(ns);
  MS_CAPI_REQUIRE(fn);
  MS_CAPI_REQUIRE(data || len == 0);
  return guard([&] {
    if (timeout_ms == 0) return fail(MS_ERR_INVALID_ARGUMENT, "timeout_ms must be above 0");
    auto peer = DeviceId::parse(device_id);
    if (!peer) return fail(peer.status());
    Bytes payload(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + len);
    ReplyFn done = [fn, user](Result<Bytes> result) {
      ms_reply reply{};
      std::string error;
      if (result) {
        reply.code = MS_OK;
        reply.data = result->data();
        reply.len = result->size();
      } else {
        reply.code = static_cast<int>(result.status().code());  // MS_ERR_* mirror Code
        error = result.status().message();
      }
      reply.error = error.c_str();
      fn(user, &reply);
    };
    Status st = onLoop(n, [&](MeshCore& core) {
      return core.bus().request(*peer, ns, payload, Micros{timeout_ms} * kMillis, std::move(done));
    });
    return st.isOk() ? ok() : fail(st);
  });
}

int ms_node_serve(ms_node* n, const char* ns, ms_request_fn fn, void* user, ms_service** out) {
  MS_CAPI_REQUIRE(n);
  MS_CAPI_REQUIRE(ns);
  MS_CAPI_REQUIRE(fn);
  MS_CAPI_REQUIRE(out);
  return guard([&] {
    auto gate = std::make_shared<RequestGate>();
    gate->fn = fn;
    gate->user = user;
    RequestHandler handler = [gate, n](const BusMessageEvent& m, Responder responder) {
      const std::string from = m.from.toString();
      const std::string name(m.ns);
      ms_message request{from.c_str(), name.c_str(), m.payload.data(), m.payload.size()};
      auto* r = new ms_responder{n, responder};
      ++n->responders;
      if (!gate->invoke(&request, r)) {  // freed meanwhile: nobody will answer, so we do
        releaseResponder(r);
        responder.fail("the service was closed");
      }
    };
    auto sub = onLoop(n, [&](MeshCore& core) { return core.bus().serve(ns, std::move(handler)); });
    if (!sub) return fail(sub.status());
    ++n->services;
    *out = new ms_service{n, std::move(gate), std::make_shared<Subscription>(std::move(sub).value())};
    return ok();
  });
}

void ms_service_free(ms_service* s) {
  if (!s) return;
  s->gate->close();
  ms_node* n = s->owner;
  guard([&] {
    if (n->node->onLoopThread()) s->subscription->reset();
    else n->node->post([sub = std::move(s->subscription)](MeshCore&) { sub->reset(); });
    return ok();
  });
  --n->services;
  delete s;
}

int ms_responder_reply(ms_responder* r, const void* data, size_t len) {
  MS_CAPI_REQUIRE(r);
  MS_CAPI_REQUIRE(data || len == 0);
  return guard([&] {
    if (len > kMaxPayloadSize)
      return fail(MS_ERR_TOO_LARGE, "reply of " + std::to_string(len) + " bytes is over " +
                                        std::to_string(kMaxPayloadSize));
    Bytes payload(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + len);
    Status st = onLoopWithResponder(r, [&](Responder& responder) { responder.reply(payload); });
    releaseResponder(r);
    return st.isOk() ? ok() : fail(st);
  });
}

int ms_responder_fail(ms_responder* r, const char* message) {
  MS_CAPI_REQUIRE(r);
  MS_CAPI_REQUIRE(message);
  return guard([&] {
    std::string text(message);
    Status st = onLoopWithResponder(r, [&](Responder& responder) { responder.fail(text); });
    releaseResponder(r);
    return st.isOk() ? ok() : fail(st);
  });
}

void ms_responder_free(ms_responder* r) {
  if (r) releaseResponder(r);
}

}  // extern "C"
