/* c_presence: the presence example in C, through the C API (capi/meshslice.h). Each device
 * publishes a status in the store "presence-c"; every device shows everyone's, updated on join,
 * change and leave.
 *
 *   INVITE=$(build/examples/c_presence --new-invite)
 *   build/examples/c_presence --name alice --invite $INVITE --listen 127.0.0.1:7001 --peer 127.0.0.1:7002
 *   build/examples/c_presence --name bob   --invite $INVITE --listen 127.0.0.1:7002 --peer 127.0.0.1:7001
 *
 * Flags: --invite, --name, --listen, --peer (repeatable), --status TEXT, --state-dir DIR,
 * --mdns-interface IF (repeatable; mDNS only when given), --mdns-port PORT, --run-for SECONDS.
 * Commands on stdin: status TEXT | show | ping NAME | quit. Output as presence.cc:
 * "+ NAME: STATUS", "~ NAME: STATUS", "- NAME (REASON)", each followed by
 * "view: NAME=STATUS ..." sorted by name. `ping NAME` asks that device directly with a bus
 * request (ms_node_request); every device answers on "presence-c.ping" (ms_node_serve) with its
 * current status: "pong NAME: STATUS", or "ping NAME failed: REASON".
 *
 * A value is "NAME\nSTATUS": the name travels with the status, so the view needs nothing else.
 */
#define _POSIX_C_SOURCE 200809L

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capi/meshslice.h"

#define MAX_PEERS 64
#define MAX_ARGS 16
#define MAX_TEXT 256

/* Who is here, for the "+"/"~" choice and for naming a device that left. Used only by store
 * callbacks, which all run on the node's loop thread: no lock needed. */
struct known {
  char id[MS_DEVICE_ID_TEXT_LEN + 1];
  char name[MAX_TEXT];
};
struct app {
  ms_store* store;
  struct known known[MAX_PEERS];
  size_t known_count;
};

struct row {
  char name[MAX_TEXT];
  char status[MAX_TEXT];
};
struct view {
  struct row rows[MAX_PEERS + 1];
  size_t count;
};

/* Splits "NAME\nSTATUS" (not NUL-terminated) into two strings. */
static void split_value(const uint8_t* data, size_t len, char* name, char* status) {
  const char* text = (const char*)data;
  const char* nl = memchr(text, '\n', len);
  size_t name_len = nl ? (size_t)(nl - text) : len;
  size_t status_len = nl ? len - name_len - 1 : 0;
  if (name_len >= MAX_TEXT) name_len = MAX_TEXT - 1;
  if (status_len >= MAX_TEXT) status_len = MAX_TEXT - 1;
  memcpy(name, text, name_len);
  name[name_len] = '\0';
  memcpy(status, nl ? nl + 1 : "", status_len);
  status[status_len] = '\0';
}

static void add_row(void* user, const ms_slice* slice) {
  struct view* v = user;
  if (v->count == MAX_PEERS + 1) return;
  split_value(slice->data, slice->len, v->rows[v->count].name, v->rows[v->count].status);
  v->count++;
}

static int by_name(const void* a, const void* b) {
  return strcmp(((const struct row*)a)->name, ((const struct row*)b)->name);
}

/* "view: alice=online bob=away", from a snapshot of the store (any thread). */
static void print_view(ms_store* store) {
  struct view v = {.count = 0};
  if (ms_store_each(store, add_row, &v, NULL) != MS_OK) return;
  qsort(v.rows, v.count, sizeof v.rows[0], by_name);
  char line[4096] = "view:";
  for (size_t i = 0; i < v.count; i++) {
    size_t used = strlen(line);
    snprintf(line + used, sizeof line - used, " %s=%s", v.rows[i].name, v.rows[i].status);
  }
  printf("%s\n", line);
  fflush(stdout);
}

/* The device ID of the device named `name` in the store (any thread); 0 if there is none. */
struct lookup {
  const char* name;
  char id[MS_DEVICE_ID_TEXT_LEN + 1];
  int found;
};
static void match_name(void* user, const ms_slice* slice) {
  struct lookup* l = user;
  char name[MAX_TEXT], status[MAX_TEXT];
  split_value(slice->data, slice->len, name, status);
  if (!slice->is_local && strcmp(name, l->name) == 0) {
    snprintf(l->id, sizeof l->id, "%s", slice->device_id);
    l->found = 1;
  }
}

/* A ping from a peer, on the loop thread: answer with this device's value. */
static void on_ping(void* user, const ms_message* request, ms_responder* responder) {
  (void)request;
  uint8_t value[2 * MAX_TEXT + 1];
  size_t len = 0;
  if (ms_store_get(user, NULL, value, sizeof value, &len) != MS_OK) {
    ms_responder_fail(responder, ms_last_error());
    return;
  }
  ms_responder_reply(responder, value, len);
}

/* The answer to our ping, on the loop thread. `user` is the name we asked (malloc'ed). */
static void on_pong(void* user, const ms_reply* reply) {
  char name[MAX_TEXT], status[MAX_TEXT];
  if (reply->code == MS_OK) {
    split_value(reply->data, reply->len, name, status);
    printf("pong %s: %s\n", name, status);
  } else {
    printf("ping %s failed: %s\n", (char*)user, reply->error);
  }
  fflush(stdout);
  free(user);
}

static void ping(ms_node* node, ms_store* store, const char* name) {
  struct lookup l = {.name = name, .found = 0};
  if (ms_store_each(store, match_name, &l, NULL) != MS_OK || !l.found) {
    printf("error: nobody named %s\n", name);
    fflush(stdout);
    return;
  }
  char* asked = strdup(name);
  if (!asked || ms_node_request(node, l.id, "presence-c.ping", "", 0, 2000, on_pong, asked) != MS_OK) {
    printf("ping %s failed: %s\n", name, ms_last_error());
    fflush(stdout);
    free(asked);
  }
}

static struct known* find_known(struct app* a, const char* id) {
  for (size_t i = 0; i < a->known_count; i++)
    if (strcmp(a->known[i].id, id) == 0) return &a->known[i];
  return NULL;
}

/* Store events: on the node's loop thread. */
static void on_store_event(void* user, const ms_store_event* e) {
  struct app* a = user;
  struct known* k = find_known(a, e->slice.device_id);
  if (e->kind == MS_STORE_PEER_UPDATED) {
    char name[MAX_TEXT], status[MAX_TEXT];
    split_value(e->slice.data, e->slice.len, name, status);
    printf("%s %s: %s\n", k ? "~" : "+", name, status);
    if (!k && a->known_count < MAX_PEERS) k = &a->known[a->known_count++];
    if (k) {
      snprintf(k->id, sizeof k->id, "%s", e->slice.device_id);
      snprintf(k->name, sizeof k->name, "%s", name);
    }
  } else {
    printf("- %s (%s)\n", k ? k->name : e->slice.device_id, e->reason);
    if (k) *k = a->known[--a->known_count];
  }
  fflush(stdout);
  print_view(a->store);
}

static int set_status(ms_store* store, const char* name, const char* status) {
  char value[2 * MAX_TEXT + 1];
  int n = snprintf(value, sizeof value, "%s\n%s", name, status);
  if (n < 0 || (size_t)n >= sizeof value) return MS_ERR_TOO_LARGE;
  return ms_store_set(store, value, (size_t)n);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One line of stdin into `line`, waiting at most until `deadline` (0: no limit). Returns 1 for
 * a line, 0 at EOF or the deadline. A minimal reader: lines longer than the buffer are cut. */
static int read_line(char* line, size_t cap, double deadline, int* eof) {
  static char buffer[4096];
  static size_t used = 0;
  for (;;) {
    char* nl = memchr(buffer, '\n', used);
    if (nl) {
      size_t len = (size_t)(nl - buffer);
      size_t copy = len < cap - 1 ? len : cap - 1;
      memcpy(line, buffer, copy);
      line[copy] = '\0';
      memmove(buffer, nl + 1, used - len - 1);
      used -= len + 1;
      return 1;
    }
    int timeout = -1;
    if (deadline > 0) {
      double left = deadline - now_seconds();
      if (left <= 0) return 0;
      timeout = (int)(left * 1000) + 1;
    }
    if (*eof || used == sizeof buffer) {
      if (deadline <= 0) return 0;
      poll(NULL, 0, timeout); /* stdin is done: wait out --run-for */
      continue;
    }
    struct pollfd fd = {.fd = 0, .events = POLLIN};
    if (poll(&fd, 1, timeout) <= 0) continue;
    ssize_t n = read(0, buffer + used, sizeof buffer - used);
    if (n <= 0) *eof = 1;
    else used += (size_t)n;
  }
}

static int usage(const char* why) {
  if (why) fprintf(stderr, "c_presence: %s\n", why);
  fprintf(stderr, "usage: c_presence --invite INVITE [--name NAME] [--listen HOST:PORT] [--peer HOST:PORT]...\n"
                  "                  [--status TEXT] [--state-dir DIR] [--mdns-interface IF]... [--mdns-port PORT]\n"
                  "                  [--run-for SECONDS]\n"
                  "       c_presence --new-invite\n");
  return 2;
}

int main(int argc, char** argv) {
  ms_node_config cfg;
  ms_node_config_init(&cfg);
  cfg.name = "c_presence";
  const char* status = "online";
  const char* peers[MAX_ARGS];
  const char* interfaces[MAX_ARGS];
  double run_for = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--new-invite") == 0) {
      char invite[128];
      if (ms_invite_new(invite, sizeof invite, NULL) != MS_OK) return 1;
      printf("%s\n", invite);
      return 0;
    }
    if (i + 1 >= argc) return usage("a flag without its value");
    const char* flag = argv[i];
    const char* value = argv[++i];
    if (strcmp(flag, "--invite") == 0) cfg.invite = value;
    else if (strcmp(flag, "--name") == 0) cfg.name = value;
    else if (strcmp(flag, "--listen") == 0) cfg.listen_address = value;
    else if (strcmp(flag, "--state-dir") == 0) cfg.state_dir = value;
    else if (strcmp(flag, "--status") == 0) status = value;
    else if (strcmp(flag, "--run-for") == 0) run_for = atof(value);
    else if (strcmp(flag, "--mdns-port") == 0) cfg.mdns_port = (uint16_t)atoi(value);
    else if (strcmp(flag, "--peer") == 0 && cfg.static_peer_count < MAX_ARGS) peers[cfg.static_peer_count++] = value;
    else if (strcmp(flag, "--mdns-interface") == 0 && cfg.mdns_interface_count < MAX_ARGS)
      interfaces[cfg.mdns_interface_count++] = value;
    else return usage("unknown flag");
  }
  if (!cfg.invite) return usage("--invite is required (make one with --new-invite)");
  cfg.static_peers = peers;
  cfg.mdns_interfaces = interfaces;
  cfg.mdns = cfg.mdns_interface_count > 0; /* never multicast unless asked to */

  ms_node* node = NULL;
  struct app a = {.store = NULL, .known_count = 0};
  ms_store_listener* listener = NULL;
  ms_service* pings = NULL;
  if (ms_node_new(&cfg, &node) != MS_OK || ms_store_new(node, "presence-c", &a.store) != MS_OK ||
      ms_store_listen(a.store, on_store_event, &a, &listener) != MS_OK ||
      set_status(a.store, cfg.name, status) != MS_OK || ms_node_start(node) != MS_OK ||
      ms_node_serve(node, "presence-c.ping", on_ping, a.store, &pings) != MS_OK) {
    fprintf(stderr, "c_presence: %s\n", ms_last_error());
    return 1;
  }
  char id[MS_DEVICE_ID_TEXT_LEN + 1], address[64];
  ms_node_id(node, id, sizeof id, NULL);
  ms_node_listen_address(node, address, sizeof address, NULL);
  printf("c_presence: %s [%.9s] listening on %s\n", cfg.name, id, address);
  print_view(a.store);

  double deadline = run_for > 0 ? now_seconds() + run_for : 0;
  int eof = 0;
  char line[MAX_TEXT + 16];
  while (read_line(line, sizeof line, deadline, &eof) && strcmp(line, "quit") != 0) {
    if (strncmp(line, "status ", 7) == 0) {
      if (set_status(a.store, cfg.name, line + 7) != MS_OK) printf("error: %s\n", ms_last_error());
      else printf("~ %s (this device): %s\n", cfg.name, line + 7);
      fflush(stdout);
      print_view(a.store);
    } else if (strcmp(line, "show") == 0) {
      print_view(a.store);
    } else if (strncmp(line, "ping ", 5) == 0) {
      ping(node, a.store, line + 5);
    } else if (line[0]) {
      printf("error: unknown command (status TEXT | show | ping NAME | quit)\n");
      fflush(stdout);
    }
  }
  /* Handles before their node: service, listener, store, then the node (which says goodbye;
   * a ping still in flight is answered with MS_ERR_CLOSED as it stops). */
  ms_service_free(pings);
  ms_store_listener_free(listener);
  ms_store_free(a.store);
  ms_node_free(node);
  printf("stopped\n");
  return 0;
}
