/* meshslice C API: a mesh node, its peers, the message bus and raw-bytes stores, for programs
 * written in C or in languages that bind to C.
 *
 *   ms_node_config cfg;
 *   ms_node_config_init(&cfg);
 *   cfg.name = "kitchen";
 *   cfg.invite = "msm1-...";
 *   ms_node* node;
 *   if (ms_node_new(&cfg, &node) != MS_OK) fprintf(stderr, "%s\n", ms_last_error());
 *   ms_store* presence;
 *   ms_store_new(node, "presence", &presence);
 *   ms_node_start(node);
 *   ms_store_set(presence, "available", 9);
 *   ...
 *   ms_store_free(presence);
 *   ms_node_free(node);            (stops the node if it still runs)
 *
 * ERRORS. Every function that can fail returns an int: MS_OK (0) or one of the MS_ERR_* codes.
 * On failure ms_last_error() describes what went wrong. Nothing is returned through an out
 * parameter when a call fails, and if a call that takes a callback fails, that callback never
 * runs. Passing NULL where a handle or a required pointer is expected is a programming error:
 * the library prints a message and aborts.
 *
 * STRINGS. All text is UTF-8. Names, invites, addresses, namespaces, store and device IDs are
 * NUL-terminated. Payloads and store values are bytes with an explicit length (they may hold
 * NULs). Text the library returns is copied into a caller buffer (`buf`, `cap`): the result is
 * NUL-terminated and `*len` (if not NULL) receives its length without the NUL; if `cap` is too
 * small, MS_ERR_BUFFER_TOO_SMALL is returned and `*len` receives the length needed.
 * Strings and bytes handed to a callback are valid only until the callback returns.
 *
 * OWNERSHIP. Every ms_*_new / ms_*_subscribe / ms_*_serve / ms_*_listen / ms_*_watch call that
 * succeeds gives the caller one handle, which the caller releases with the matching *_free
 * function; a request handler is given one ms_responder, released by answering it (or
 * ms_responder_free). Stores, subscriptions, services, responders, store listeners and peer
 * watches belong to a node: free them all before ms_node_free() (checked: freeing a node that
 * still has them aborts). Memory returned by ms_store_get_alloc() is released with ms_free().
 *
 * THREADS. A node runs on one loop thread: its own (the default) or, with cfg.host_loop, a
 * libuv loop the application runs. Every callback (bus messages, requests, replies, store
 * events, peer events) runs on that loop thread; keep callbacks short, as the node does nothing else meanwhile.
 * - Own loop thread: every function may be called from any thread, and from inside callbacks,
 *   except ms_node_start(), ms_node_stop() and ms_node_free(), which wait for the loop thread
 *   and so return MS_ERR_WRONG_THREAD (or abort, for ms_node_free) inside a callback.
 * - Host loop: call every function on the thread that runs the loop (from callbacks too).
 *   ms_node_stop() returns at once; keep running the loop until ms_node_stopped() is true,
 *   then ms_node_free(), then run the loop once more so the last handle closes.
 * A handle may be freed inside a callback, including its own; once its *_free returns, its
 * callback is not running (on another thread) and will not run again. The calls on one
 * handle must not race with freeing that same handle.
 */
#ifndef MESHSLICE_CAPI_MESHSLICE_H_
#define MESHSLICE_CAPI_MESHSLICE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ---- */

enum {
  MS_OK = 0,
  MS_ERR_INVALID_ARGUMENT = 1, /* a malformed argument: bad invite, namespace, device ID, ... */
  MS_ERR_MALFORMED = 2,        /* a stored file or received data failed to decode */
  MS_ERR_TOO_LARGE = 3,        /* over a size limit (payload, store value) */
  MS_ERR_NOT_FOUND = 4,        /* no such value, peer or store */
  MS_ERR_ALREADY_EXISTS = 5,   /* e.g. a second store with the same ID on one node */
  MS_ERR_BUSY = 6,             /* a bounded queue is full: back off and retry */
  MS_ERR_CLOSED = 7,           /* the node is not running (not started yet, or stopped) */
  MS_ERR_TIMEOUT = 8,
  MS_ERR_AUTH_FAILED = 9,
  MS_ERR_PERMISSION_DENIED = 10, /* e.g. a key file readable by others */
  MS_ERR_INCOMPATIBLE = 11,
  MS_ERR_IO = 12,              /* an OS error: address in use, unreadable state directory, ... */
  MS_ERR_INTERNAL = 13,
  MS_ERR_BUFFER_TOO_SMALL = 100, /* `cap` too small; *len says how much is needed */
  MS_ERR_WRONG_THREAD = 101      /* a call that waits for the loop thread, made on it */
};

/* The message of the last failed call on the calling thread ("" if none). Valid until the
 * next ms_* call on this thread. */
const char* ms_last_error(void);
/* A short name for an error code, e.g. "not-found". Never NULL; static storage. */
const char* ms_error_name(int code);
/* The library version, e.g. "0.1.0". Static storage. */
const char* ms_version(void);

/* Length of a device ID's text form ("ABCDEFGH?-IJKLMNOP?-QRSTUVWX?-YZ234567?"). */
#define MS_DEVICE_ID_TEXT_LEN 39

/* Log level of the whole process: 0 trace, 1 debug, 2 info, 3 warn (default), 4 error, 5 off.
 * Records go to stderr. Any thread. */
int ms_set_log_level(int level);

/* ---- identity and invites (no node needed; any thread; blocking file I/O) ---- */

/* A new random mesh secret, as an invite string ("msm1-..."). The invite IS the secret: show
 * it to the user, never log it. */
int ms_invite_new(char* buf, size_t cap, size_t* len);
/* MS_OK if `invite` is a well-formed invite (prefix, characters, length, checksum). */
int ms_invite_check(const char* invite);
/* Loads <state_dir>/identity.key, creating it (mode 0600, and the directory, 0700) with a new
 * key pair named `name_if_new` if it does not exist; writes the device ID's text form. */
int ms_identity_load_or_create(const char* state_dir, const char* name_if_new, char* buf,
                               size_t cap, size_t* len);

/* ---- nodes ---- */

typedef struct ms_node ms_node;
struct uv_loop_s; /* libuv's uv_loop_t */

typedef struct ms_node_config {
  /* sizeof the struct as the program was compiled: set by ms_node_config_init(). The library
   * reads only this many bytes, so a program built against an older header (a shorter struct)
   * keeps working with a newer library; fields past its end take their defaults. */
  size_t struct_size;
  const char* name;           /* display name, at most 64 bytes; NULL: "meshslice" */
  const char* invite;         /* the mesh's invite; required */
  const char* state_dir;      /* keeps the device identity between runs; NULL: a new identity */
  const char* listen_address; /* numeric "host:port"; NULL: "127.0.0.1:0" (any free port) */
  const char* const* static_peers; /* "host:port" / "[v6]:port" peers to keep dialed; a host may
                                     * be a name (resolved, and looked up again every minute) */
  size_t static_peer_count;
  int mdns;                   /* nonzero: discover peers with mDNS (multicast on the LAN) */
  const char* const* mdns_interfaces; /* with mdns: interface names; none: every interface */
  size_t mdns_interface_count;
  uint16_t mdns_port;         /* with mdns: UDP port; 0: 5353. Peers must use the same. */
  uint32_t liveness_timeout_ms; /* a silent peer is offline after this; 0: 3000 */
  struct uv_loop_s* host_loop; /* run on this loop instead of an own thread (see THREADS) */
} ms_node_config;

/* Fills `config` with the defaults above (everything NULL / 0) and sets struct_size to the
 * size of the struct this program was compiled with. Fields may be added at the end in later
 * versions: always start from ms_node_config_init() (a macro: the size is the caller's). */
#define ms_node_config_init(config) ms_node_config_init_sized((config), sizeof(ms_node_config))
/* What ms_node_config_init() calls: clears `size` bytes of `config` and sets struct_size. */
void ms_node_config_init_sized(ms_node_config* config, size_t size);

/* Creates a node (not running yet). The config's strings are copied. Loads or creates the
 * identity when state_dir is set. MS_ERR_INVALID_ARGUMENT if struct_size is not set (a config
 * not started from ms_node_config_init()), or if a newer program's struct sets fields this
 * library does not know (they would be ignored silently). */
int ms_node_new(const ms_node_config* config, ms_node** out);
/* Listens, starts discovery and dialing, and starts syncing the node's stores. Returns once
 * the node runs; MS_ERR_IO if the listen address is taken. A node starts at most once. */
int ms_node_start(ms_node* node);
/* Graceful stop: goodbyes on every link, then closes everything. Idempotent. Own loop thread:
 * returns when the thread ended. Stores keep their local value but lose the peers' values. */
int ms_node_stop(ms_node* node);
/* Nonzero once a stop finished (for host loops). */
int ms_node_stopped(const ms_node* node);
/* Stops the node if needed and frees it. NULL is ignored. */
void ms_node_free(ms_node* node);

/* This device's ID (MS_DEVICE_ID_TEXT_LEN characters). Any time. */
int ms_node_id(const ms_node* node, char* buf, size_t cap, size_t* len);
/* The bound "host:port" (after ms_node_start), e.g. to tell other nodes where to dial. */
int ms_node_listen_address(const ms_node* node, char* buf, size_t cap, size_t* len);

typedef struct ms_peer_info {
  const char* device_id; /* text form */
  const char* name;      /* the display name the peer announced */
  const char* address;   /* remote address of its current link */
  uint32_t protocol_version;
} ms_peer_info;

/* Calls `fn` once per connected peer, on the calling thread, before returning (a snapshot).
 * Writes the number of peers to *count if not NULL. `fn` may be NULL (just count). */
typedef void (*ms_peer_fn)(void* user, const ms_peer_info* peer);
int ms_node_peers(ms_node* node, ms_peer_fn fn, void* user, size_t* count);

/* Peer events, on the loop thread. A watch made before ms_node_start() sees every event. */
typedef enum ms_peer_event_kind {
  MS_PEER_JOINED = 1,
  MS_PEER_UPDATED = 2, /* name or address changed */
  MS_PEER_LEFT = 3     /* `reason`: "goodbye", "timeout", "link-lost", "revoked", "stopped" */
} ms_peer_event_kind;
typedef struct ms_peer_event {
  ms_peer_event_kind kind;
  ms_peer_info peer;  /* for MS_PEER_LEFT only device_id is set; name and address are "" */
  const char* reason; /* MS_PEER_LEFT only; "" otherwise */
} ms_peer_event;
typedef void (*ms_peer_event_fn)(void* user, const ms_peer_event* event);
typedef struct ms_peer_watch ms_peer_watch;
int ms_node_watch_peers(ms_node* node, ms_peer_event_fn fn, void* user, ms_peer_watch** out);
void ms_peer_watch_free(ms_peer_watch* watch);

/* ---- message bus ---- */

/* Namespaces: 1..64 characters of [A-Za-z0-9._-], starting with a letter or digit; "ms."
 * belongs to the library. Payloads up to about 1 MiB. Order is kept per peer. */

/* To every connected peer. *reached (if not NULL) receives how many peers took it. */
int ms_node_publish(ms_node* node, const char* ns, const void* data, size_t len, size_t* reached);
/* To one peer, by device ID text (any case, dashes optional). MS_ERR_NOT_FOUND if not linked. */
int ms_node_send(ms_node* node, const char* device_id, const char* ns, const void* data,
                 size_t len);

typedef struct ms_message {
  const char* from;  /* sender's device ID, text form */
  const char* ns;
  const uint8_t* data;
  size_t len;
} ms_message;
typedef void (*ms_message_fn)(void* user, const ms_message* message);
typedef struct ms_subscription ms_subscription;
/* Messages published or sent to `ns` by peers, on the loop thread, until the subscription is
 * freed. The node must be running. */
int ms_node_subscribe(ms_node* node, const char* ns, ms_message_fn fn, void* user,
                      ms_subscription** out);
void ms_subscription_free(ms_subscription* subscription);

/* ---- requests and replies ---- */

/* A request goes to one peer and gets at most one reply. */
typedef struct ms_reply {
  int code;            /* MS_OK: `data` is the reply. MS_ERR_TIMEOUT: none in time.
                          MS_ERR_NOT_FOUND: the peer serves nothing on `ns`. MS_ERR_CLOSED: the
                          peer left or this node stopped first. MS_ERR_INTERNAL: the peer's
                          handler failed (ms_responder_fail); `error` holds its message. */
  const uint8_t* data; /* MS_OK only; NULL otherwise */
  size_t len;
  const char* error;   /* "" for MS_OK */
} ms_reply;
typedef void (*ms_reply_fn)(void* user, const ms_reply* reply);
/* Sends `data` to the peer `device_id` on `ns` and calls `fn` exactly once, on the loop
 * thread, with its reply or why there is none, within `timeout_ms` (> 0) or when the node
 * stops, whichever comes first. `user` must stay valid until then. If the call fails (e.g.
 * MS_ERR_NOT_FOUND: the peer is not linked; MS_ERR_CLOSED: the node does not run), `fn`
 * never runs. */
int ms_node_request(ms_node* node, const char* device_id, const char* ns, const void* data, size_t len,
                    uint32_t timeout_ms, ms_reply_fn fn, void* user);

/* Answering requests. `fn` runs on the loop thread for each request to `ns`, with a responder
 * the application now owns: it must call exactly one of ms_responder_reply(),
 * ms_responder_fail() or ms_responder_free(), each of which releases it, inside the callback
 * or later from any thread. A request left unanswered times out at the requester. Responders
 * belong to the node: release them all before ms_node_free() (checked). A service is freed
 * with ms_service_free(); one namespace has at most one service that answers (the first). */
typedef struct ms_responder ms_responder;
typedef void (*ms_request_fn)(void* user, const ms_message* request, ms_responder* responder);
typedef struct ms_service ms_service;
/* The node must be running. Free the service before ms_node_free() (checked). */
int ms_node_serve(ms_node* node, const char* ns, ms_request_fn fn, void* user, ms_service** out);
void ms_service_free(ms_service* service);
/* Sends the reply (at most about 1 MiB) and releases the responder. MS_ERR_CLOSED if the node
 * stopped meanwhile (released all the same); MS_ERR_TOO_LARGE (not released: answer again). */
int ms_responder_reply(ms_responder* responder, const void* data, size_t len);
/* Fails the request with a message (the requester sees MS_ERR_INTERNAL) and releases it. */
int ms_responder_fail(ms_responder* responder, const char* message);
/* Releases the responder without answering. NULL is ignored. */
void ms_responder_free(ms_responder* responder);

/* ---- stores ---- */

/* A store holds one value (bytes, at most 1 MiB) per device of the mesh. This device writes
 * only its own value with ms_store_set(); the others' values arrive from their owners, and
 * vanish when their owner goes offline. Store IDs follow the namespace syntax. The same store
 * ID on two devices is the same store. */
typedef struct ms_store ms_store;

/* A store on `node` (running or not: a store made before ms_node_start() syncs from the
 * start). MS_ERR_ALREADY_EXISTS for a second store with the same ID on the node. */
int ms_store_new(ms_node* node, const char* store_id, ms_store** out);
/* Stops syncing the store and frees it. NULL is ignored. Peers keep this device's value until
 * this device goes offline. */
void ms_store_free(ms_store* store);
/* Deletes this device's value from the mesh and frees the store (as ms_store_free(); its
 * listeners must be freed first). Peers whose build supports it (capability "lifecycle",
 * docs/STORES.md section 7) drop the value at once, and a peer that missed it is told again
 * when its digest still lists it; older peers keep it until this device goes offline. */
int ms_store_delete(ms_store* store);

/* Replaces this device's value; peers get it within moments. Any thread. */
int ms_store_set(ms_store* store, const void* data, size_t len);
/* Copies a device's value (device_id NULL: this device's) into buf. MS_ERR_NOT_FOUND if the
 * store holds none; MS_ERR_BUFFER_TOO_SMALL with *len = the value's size. `buf` may be NULL
 * when `cap` is 0 (to ask for the size). Values are bytes: no NUL is added. */
int ms_store_get(ms_store* store, const char* device_id, void* buf, size_t cap, size_t* len);
/* The same, into memory the library allocates (release it with ms_free()). An empty value
 * gives a non-NULL pointer and *len = 0. */
int ms_store_get_alloc(ms_store* store, const char* device_id, uint8_t** data, size_t* len);
void ms_free(void* memory);

typedef struct ms_slice {
  const char* device_id;
  const uint8_t* data;
  size_t len;
  uint64_t version; /* rises with every write of that device */
  int is_local;     /* nonzero for this device's own value */
} ms_slice;
typedef void (*ms_slice_fn)(void* user, const ms_slice* slice);
/* Calls `fn` for every value held (this device's included once written), on the calling
 * thread, before returning (a snapshot). *count (if not NULL) receives how many. */
int ms_store_each(ms_store* store, ms_slice_fn fn, void* user, size_t* count);

typedef enum ms_store_event_kind {
  MS_STORE_PEER_UPDATED = 1, /* a peer's new value: `slice` */
  MS_STORE_PEER_REMOVED = 2  /* a peer went offline (or deleted its value, reason "removed"):
                                `slice.device_id` and `reason` */
} ms_store_event_kind;
typedef struct ms_store_event {
  ms_store_event_kind kind;
  ms_slice slice;     /* for MS_STORE_PEER_REMOVED: device_id only (data NULL, len 0) */
  const char* reason; /* MS_STORE_PEER_REMOVED: "goodbye", "timeout", "link-lost", ...; else "" */
} ms_store_event;
typedef void (*ms_store_event_fn)(void* user, const ms_store_event* event);
typedef struct ms_store_listener ms_store_listener;
/* Peers' changes to the store, on the loop thread, until the listener is freed. */
int ms_store_listen(ms_store* store, ms_store_event_fn fn, void* user, ms_store_listener** out);
void ms_store_listener_free(ms_store_listener* listener);

/* ---- store errors ---- */

/* Failures of store sync that no call returns, because they happen on the loop thread in answer
 * to peers, by phase. Each is also counted and logged; none stops syncing. */
typedef enum ms_store_phase {
  MS_STORE_PHASE_DECODE = 1,  /* a sync message from a peer did not decode */
  MS_STORE_PHASE_APPLY = 2,   /* a store refused a peer's value */
  MS_STORE_PHASE_PERSIST = 3, /* this device's value could not be saved (stores that persist) */
  MS_STORE_PHASE_SEND = 4,    /* a sync message could not be handed to a peer's link */
  MS_STORE_PHASE_CONTRACT = 5 /* the peer's store declares an incompatible contract: nothing of
                                 that store is exchanged with that peer (docs/STORES.md) */
} ms_store_phase;
typedef struct ms_store_error {
  /* sizeof the struct as this library fills it. Fields may be added at the end in later
   * versions: read a field past the ones below only if it lies within struct_size. */
  size_t struct_size;
  ms_store_phase phase;
  const char* store_id;  /* the store concerned; "" if the failure names none (a message that
                            did not decode, or one about several stores that was not sent) */
  const char* device_id; /* the peer concerned; this device for MS_STORE_PHASE_PERSIST */
  int code;              /* MS_ERR_*, e.g. MS_ERR_MALFORMED for MS_STORE_PHASE_DECODE */
  const char* message;   /* what went wrong, for a log */
} ms_store_error;
typedef void (*ms_store_error_cb)(void* user, const ms_store_error* error);
/* Calls `fn` once for every such failure of the node's stores, until replaced; `fn` NULL removes
 * it. May be called at any time, before or after ms_node_start(), from any thread (host loop:
 * the loop's thread) and from inside callbacks, its own included. `fn` runs on the loop
 * thread, a loop turn after the failure (so it may call into the library as any callback
 * may); failures while no callback is set are not reported later. Once this returns, the
 * previous callback is not running (on another thread) and will not run again. `user` must
 * stay valid until then. */
int ms_node_set_store_error_cb(ms_node* node, ms_store_error_cb fn, void* user);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif /* MESHSLICE_CAPI_MESHSLICE_H_ */
