// Process exit codes of the `meshslice` binary (docs/CLI.md). Scripts branch on them, so they
// are part of the CLI's contract: never renumber one.
#pragma once

namespace meshslice {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,           // runtime failure: I/O, corrupt file, the daemon refused the call
  kExitUsage = 2,           // unknown command or flag, bad argument, malformed or oversized input
  kExitNoDaemon = 3,        // no daemon is running on the state directory
  kExitAlreadyRunning = 4,  // `up`: another daemon holds the state directory
};

}  // namespace meshslice
