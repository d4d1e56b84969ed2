// The `meshslice` binary: a node daemon (`meshslice up`) and the commands that drive it.
// Everything lives in the meshslice_node library (node/cli.h) so tests can reach it.
#include "node/cli.h"

int main(int argc, char** argv) { return meshslice::runCli(argc, argv); }
