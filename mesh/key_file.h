// Small private files in a node's state directory (identity.key, mesh.key): created 0600 and
// replaced atomically, refused on load when group or others can read or write them. The file
// formats themselves belong to Identity and MeshSecret; this file only knows the rules.
// Blocking file I/O: call at startup or from a CLI, not from the loop thread's hot path.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace meshslice {

// Largest key file we read; real ones are under 200 bytes.
inline constexpr size_t kMaxKeyFileSize = 4096;

// Creates `dir` and any missing parents with mode 0700. Existing directories are left as they
// are. kIo if a component exists but is not a directory or cannot be created.
Status ensurePrivateDir(const std::string& dir);

// Reads a whole private file. Errors: kNotFound if it does not exist; kPermissionDenied if
// group/others have any access (message names the file and the chmod fix); kMalformed if it
// is not a regular file or larger than kMaxKeyFileSize; kIo otherwise. Symlinks are refused.
// `what` names the file's role in messages ("identity file"). The caller wipes the returned
// contents when they hold a secret.
Result<std::string> readPrivateFile(const std::string& path, std::string_view what);

// Writes `contents` to a new temp file next to `path` (O_CREAT|O_EXCL, mode 0600), fsyncs it,
// then moves it into place and fsyncs the directory, so a crash leaves the old file or the new
// one, never a torn one. With replace == false an existing `path` is never touched and the
// call returns kAlreadyExists.
Status writePrivateFile(const std::string& path, std::string_view contents, bool replace);

// Splits a key file into its header line and "key value" lines (value = rest of the line after
// the first space, may be empty). Views point into `contents`. kMalformed, naming the problem,
// if the first line is not exactly `header`, a line has no key, or a key repeats.
Result<std::vector<std::pair<std::string_view, std::string_view>>> parseKeyFileLines(
    std::string_view contents, std::string_view header);

// Hex helpers for secrets that make no temporary copies (base/bytes.h's toHex/fromHex do).
// Appends 64 lower-case hex digits of `key` to `out`; reserve `out` first so it does not
// reallocate and leave an unwiped copy behind.
void appendSecretHex(std::string& out, const Key32& key);
// Parses exactly 64 hex digits (either case) into `out`. False otherwise; `out` is then
// unspecified and the caller wipes it.
bool parseSecretHex(std::string_view hex, Key32& out);

}  // namespace meshslice
