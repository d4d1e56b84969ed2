// ms_node_config across library versions: the caller's struct_size says how much of the struct
// its program knows; the library reads no byte past it and defaults the rest.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "capi/meshslice.h"

namespace {

std::string newInvite() {
  char buf[128];
  size_t len = 0;
  EXPECT_EQ(ms_invite_new(buf, sizeof buf, &len), MS_OK);
  return std::string(buf, len);
}

TEST(CApiConfigAbi, InitSetsTheCallersSize) {
  ms_node_config cfg;
  std::memset(&cfg, 0xab, sizeof cfg);
  ms_node_config_init(&cfg);
  EXPECT_EQ(cfg.struct_size, sizeof(ms_node_config));
  EXPECT_EQ(cfg.name, nullptr);
  EXPECT_EQ(cfg.host_loop, nullptr);
}

TEST(CApiConfigAbi, AnOlderProgramsShorterStructIsReadOnlyAsFarAsItGoes) {
  // An "older" program knew the fields up to mdns_port: its struct ends there. It lives in an
  // exactly sized heap block (ASan reports any read past it), followed in a second case by
  // garbage that would be a wild host_loop pointer if the library read it.
  const size_t old_size = offsetof(ms_node_config, liveness_timeout_ms);
  const std::string invite = newInvite();
  for (bool garbage_after : {false, true}) {
    SCOPED_TRACE(garbage_after);
    const size_t block = old_size + (garbage_after ? sizeof(ms_node_config) : 0);
    std::unique_ptr<unsigned char[]> mem(new unsigned char[block]);
    std::memset(mem.get(), 0xab, block);
    auto* cfg = reinterpret_cast<ms_node_config*>(mem.get());
    ms_node_config_init_sized(cfg, old_size);
    EXPECT_EQ(cfg->struct_size, old_size);
    cfg->name = "old-program";
    cfg->invite = invite.c_str();
    ms_node* n = nullptr;
    ASSERT_EQ(ms_node_new(cfg, &n), MS_OK) << ms_last_error();
    ASSERT_EQ(ms_node_start(n), MS_OK) << ms_last_error() << " (an own loop thread: host_loop defaulted)";
    ASSERT_EQ(ms_node_stop(n), MS_OK);
    ms_node_free(n);
  }
}

TEST(CApiConfigAbi, AConfigWithoutASizeOrWithUnknownFieldsIsRefused) {
  const std::string invite = newInvite();
  ms_node_config cfg;
  ms_node_config_init(&cfg);
  cfg.invite = invite.c_str();
  cfg.struct_size = 0;  // e.g. `ms_node_config cfg = {0};` without init
  ms_node* n = nullptr;
  EXPECT_EQ(ms_node_new(&cfg, &n), MS_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(ms_last_error()).find("ms_node_config_init"), std::string::npos) << ms_last_error();
  EXPECT_EQ(n, nullptr);

  // A "newer" program's struct: ours plus a field this library does not know, set.
  struct Newer {
    ms_node_config base;
    uint64_t future_field;
  } newer;
  ms_node_config_init_sized(&newer.base, sizeof newer);
  newer.base.invite = invite.c_str();
  newer.future_field = 1;
  EXPECT_EQ(ms_node_new(&newer.base, &n), MS_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(ms_last_error()).find("needs a newer libmeshslice"), std::string::npos) << ms_last_error();
  newer.future_field = 0;  // unset: nothing is lost by ignoring it
  ASSERT_EQ(ms_node_new(&newer.base, &n), MS_OK) << ms_last_error();
  ms_node_free(n);
}

}  // namespace
