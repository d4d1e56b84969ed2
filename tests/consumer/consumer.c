/* A C application using an installed meshslice through its C API: two nodes on 127.0.0.1
 * share a store value, then one leaves and the other sees its value go. Exits 0 on success.
 * Waits poll the store every 10 ms, for 10 s at most. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "capi/meshslice.h"

static int fail(const char* what) {
  printf("FAILED: %s: %s\n", what, ms_last_error());
  return 1;
}

/* Polls `store` every 10 ms for up to 10 s until `device`'s value equals `want` (or, with
 * want == NULL, until it has no value). */
static int wait_value(ms_store* store, const char* device, const char* want) {
  for (int i = 0; i < 1000; i++) {
    char buf[64];
    size_t len = 0;
    int rc = ms_store_get(store, device, buf, sizeof buf, &len);
    if (want ? (rc == MS_OK && len == strlen(want) && memcmp(buf, want, len) == 0) : rc == MS_ERR_NOT_FOUND)
      return 1;
    struct timespec ten_ms = {0, 10 * 1000 * 1000};
    nanosleep(&ten_ms, NULL);
  }
  return 0;
}

int main(void) {
  ms_set_log_level(4);
  char invite[128], address[64], id_b[MS_DEVICE_ID_TEXT_LEN + 1];
  if (ms_invite_new(invite, sizeof invite, NULL) != MS_OK) return fail("invite");
  ms_node_config cfg;
  ms_node_config_init(&cfg);
  cfg.invite = invite;
  cfg.name = "c-consumer-a";
  ms_node *a = NULL, *b = NULL;
  ms_store *store_a = NULL, *store_b = NULL;
  if (ms_node_new(&cfg, &a) != MS_OK || ms_store_new(a, "greeting-c", &store_a) != MS_OK ||
      ms_node_start(a) != MS_OK || ms_node_listen_address(a, address, sizeof address, NULL) != MS_OK)
    return fail("node a");
  const char* peers[] = {address};
  cfg.name = "c-consumer-b";
  cfg.static_peers = peers;
  cfg.static_peer_count = 1;
  if (ms_node_new(&cfg, &b) != MS_OK || ms_store_new(b, "greeting-c", &store_b) != MS_OK ||
      ms_store_set(store_b, "hi from c", 9) != MS_OK || ms_node_start(b) != MS_OK ||
      ms_node_id(b, id_b, sizeof id_b, NULL) != MS_OK)
    return fail("node b");
  if (!wait_value(store_a, id_b, "hi from c")) return fail("a sees b's value");
  ms_store_free(store_b);
  ms_node_free(b); /* goodbye: a drops b's value at once */
  if (!wait_value(store_a, id_b, NULL)) return fail("b's value leaves with b");
  ms_store_free(store_a);
  ms_node_free(a);
  printf("consumer (C): all good\n");
  return 0;
}
