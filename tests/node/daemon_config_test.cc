#include "node/daemon_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "node/cli.h"
#include "tests/mesh/scoped_temp_dir.h"

namespace meshslice {
namespace {

GetEnvFn envOf(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

Invocation parse(std::vector<std::string> args) {
  args.insert(args.begin(), "meshslice");
  auto inv = parseCommandLine(args);
  EXPECT_TRUE(inv.isOk()) << inv.status().toString();
  return inv.isOk() ? inv.value() : Invocation{};
}

TEST(ConfigFile, ParsesEveryKeyCommentsAndRepeatedListKeys) {
  auto layer = parseConfigText(
      "# a comment\n"
      "\n"
      "name = kitchen pi\n"
      "listen=0.0.0.0:7070\r\n"
      "interface = eth0\n"
      "interface = wlan0, lo\n"
      "peer = 10.0.0.2:7070\n"
      "mdns = off\n"
      "mdns-port = 15353\n"
      "log-level = debug\n"
      "store = sensors\n"
      "state-dir = /var/lib/x\n",
      "test.conf");
  ASSERT_TRUE(layer.isOk()) << layer.status().toString();
  EXPECT_EQ(*layer->name, "kitchen pi");
  EXPECT_EQ(*layer->listen, "0.0.0.0:7070");
  EXPECT_EQ(*layer->interfaces, (std::vector<std::string>{"eth0", "wlan0", "lo"}));
  EXPECT_EQ(*layer->peers, (std::vector<std::string>{"10.0.0.2:7070"}));
  EXPECT_FALSE(*layer->mdns);
  EXPECT_EQ(*layer->mdns_port, 15353);
  EXPECT_EQ(*layer->log_level, LogLevel::kDebug);
  EXPECT_EQ(*layer->stores, (std::vector<std::string>{"sensors"}));
  EXPECT_EQ(*layer->state_dir, "/var/lib/x");
}

TEST(ConfigFile, ErrorsNameTheFileTheLineAndTheProblem) {
  auto unknown = parseConfigText("name = a\nlisten 1.2.3.4:5\n", "my.conf");
  EXPECT_EQ(unknown.status().message(), "my.conf line 2: expected 'key = value'");
  auto key = parseConfigText("colour = blue\n", "my.conf");
  EXPECT_EQ(key.status().message(), "my.conf line 1: unknown key 'colour'");
  auto boolean = parseConfigText("mdns = maybe\n", "my.conf");
  EXPECT_NE(boolean.status().message().find("line 1: not a boolean"), std::string::npos);
  auto port = parseConfigText("mdns-port = 70000\n", "my.conf");
  EXPECT_EQ(port.status().code(), Code::kInvalidArgument);
  auto level = parseConfigText("log-level = loud\n", "my.conf");
  EXPECT_NE(level.status().message().find("unknown log level 'loud'"), std::string::npos);
}

// Found by fuzz/daemon_config_fuzzer.cc (with _GLIBCXX_ASSERTIONS): a list key whose value has
// no entries read the size of an empty optional.
TEST(ConfigFile, AListKeyWithoutEntriesSetsNothing) {
  auto empty = parseConfigText("peer = ,\nstore =\ninterface = , ,\n", "my.conf");
  ASSERT_TRUE(empty.isOk()) << empty.status().toString();
  EXPECT_FALSE(empty->peers.has_value());
  EXPECT_FALSE(empty->stores.has_value());
  EXPECT_FALSE(empty->interfaces.has_value());
  auto later = parseConfigText("peer = ,\npeer = 10.0.0.1:7000\n", "my.conf");
  ASSERT_TRUE(later.isOk());
  EXPECT_EQ(later->peers, std::vector<std::string>{"10.0.0.1:7000"});
}

TEST(ConfigFile, BinaryGarbageAndOversizedFilesAreRefused) {
  ScopedTempDir dir;
  std::string path = dir.file("big.conf");
  std::ofstream(path) << std::string(kMaxConfigFileSize + 1, '#');
  EXPECT_EQ(loadConfigFile(path).status().code(), Code::kTooLarge);
  std::ofstream(path, std::ios::trunc) << std::string("\x01\x02\xff garbage\n");
  EXPECT_EQ(loadConfigFile(path).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(loadConfigFile(dir.file("missing.conf")).status().code(), Code::kNotFound);
}

TEST(ConfigEnv, ReadsVariablesAndNamesABadOne) {
  auto layer = configFromEnv(envOf({{"MESHSLICE_PEERS", "1.2.3.4:5, 5.6.7.8:9"},
                                    {"MESHSLICE_MDNS", "0"},
                                    {"MESHSLICE_NAME", ""}}));
  ASSERT_TRUE(layer.isOk());
  EXPECT_EQ(*layer->peers, (std::vector<std::string>{"1.2.3.4:5", "5.6.7.8:9"}));
  EXPECT_FALSE(*layer->mdns);
  EXPECT_FALSE(layer->name.has_value()) << "empty variables count as unset";
  auto bad = configFromEnv(envOf({{"MESHSLICE_LOG_LEVEL", "chatty"}}));
  EXPECT_NE(bad.status().message().find("MESHSLICE_LOG_LEVEL"), std::string::npos);
}

TEST(ConfigPrecedence, FlagsBeatEnvironmentBeatsFileBeatsDefaults) {
  ScopedTempDir dir;
  std::ofstream(dir.file("meshslice.conf")) << "name = from-file\nlisten = 127.0.0.1:1000\n"
                                               "peer = 127.0.0.1:1\nlog-level = error\nmdns = false\n";
  auto env = envOf({{"MESHSLICE_STATE_DIR", dir.path()}, {"MESHSLICE_LISTEN", "127.0.0.1:2000"},
                    {"MESHSLICE_NAME", "from-env"}});
  auto config = resolveDaemonConfig(parse({"up", "--name", "from-flag"}), env);
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->state_dir, dir.path());
  EXPECT_EQ(config->name, "from-flag");
  EXPECT_EQ(config->listen, "127.0.0.1:2000");
  EXPECT_EQ(config->peers, (std::vector<std::string>{"127.0.0.1:1"}));
  EXPECT_EQ(config->log_level, LogLevel::kError);
  EXPECT_FALSE(config->mdns);
  EXPECT_EQ(config->mdns_port, kDefaultMdnsPort);

  auto flags = resolveDaemonConfig(parse({"up", "--mdns", "--peer", "127.0.0.1:7", "--peer", "127.0.0.1:8"}), env);
  ASSERT_TRUE(flags.isOk());
  EXPECT_TRUE(flags->mdns);
  EXPECT_EQ(flags->peers, (std::vector<std::string>{"127.0.0.1:7", "127.0.0.1:8"})) << "flags replace the file's list";
}

TEST(ConfigPrecedence, DefaultsWithoutAnyConfigAndAStateDirFromHome) {
  auto config = resolveDaemonConfig(parse({"up"}), envOf({{"HOME", "/home/someone"}}));
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->state_dir, "/home/someone/.local/state/meshslice");
  EXPECT_EQ(config->listen, kDefaultListen);
  EXPECT_TRUE(config->mdns);
  EXPECT_EQ(config->log_level, LogLevel::kInfo);
  EXPECT_EQ(resolveDaemonConfig(parse({"up"}), envOf({})).status().code(), Code::kNotFound);
}

TEST(ConfigPrecedence, AnExplicitConfigMustExistAndBadValuesAreRefused) {
  ScopedTempDir dir;
  auto env = envOf({{"MESHSLICE_STATE_DIR", dir.path()}});
  EXPECT_EQ(resolveDaemonConfig(parse({"up", "--config", dir.file("nope.conf")}), env).status().code(), Code::kNotFound);
  EXPECT_EQ(resolveDaemonConfig(parse({"up", "--listen", "localhost:80"}), env).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(resolveDaemonConfig(parse({"up", "--peer", "10.0.0.1"}), env).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(resolveDaemonConfig(parse({"up", "--peer", "[hall.lan]:7070"}), env).status().code(), Code::kInvalidArgument);
  auto named = resolveDaemonConfig(parse({"up", "--peer", "hall.lan:7070", "--peer", "[fd00::2]:7070"}), env);
  ASSERT_TRUE(named.isOk()) << "peers may be host names: " << named.status().toString();
  EXPECT_EQ(named->peers, (std::vector<std::string>{"hall.lan:7070", "[fd00::2]:7070"}));
  EXPECT_EQ(resolveDaemonConfig(parse({"up", "--store", "bad store"}), env).status().code(), Code::kInvalidArgument);
  std::ofstream(dir.file("meshslice.conf")) << "state-dir = /elsewhere\n";
  EXPECT_EQ(resolveDaemonConfig(parse({"up"}), env).status().code(), Code::kInvalidArgument)
      << "the state dir's own config file cannot move the state dir";
}

TEST(CommandLine, ParsesUpFlagsRepeatedOptionsAndHiddenTestFlags) {
  Invocation inv = parse({"up", "--state-dir", "/tmp/s", "--interface", "lo", "--interface", "eth1", "--no-mdns",
                          "--mdns-port", "25353", "--listen", "127.0.0.1:0", "--log-level", "debug"});
  EXPECT_EQ(inv.command, "up");
  EXPECT_EQ(*inv.flags.state_dir, "/tmp/s");
  EXPECT_EQ(*inv.flags.interfaces, (std::vector<std::string>{"lo", "eth1"}));
  EXPECT_FALSE(*inv.flags.mdns);
  EXPECT_EQ(*inv.flags.mdns_port, 25353);
  EXPECT_EQ(*inv.flags.log_level, LogLevel::kDebug);
  EXPECT_FALSE(inv.flags.peers.has_value()) << "flags not given stay unset";
}

TEST(CommandLine, ClientCommandsTakePositionalsAndTheStateDirAnywhere) {
  Invocation get = parse({"get", "sensors", "AAAA", "--json", "--state-dir", "/s"});
  EXPECT_EQ(get.command, "get");
  EXPECT_EQ(get.args, (std::vector<std::string>{"sensors", "AAAA"}));
  EXPECT_TRUE(get.json);
  EXPECT_EQ(*get.flags.state_dir, "/s");
  Invocation set = parse({"--state-dir", "/s", "set", "cfg", "{\"a\":1}"});
  EXPECT_EQ(set.args, (std::vector<std::string>{"cfg", "{\"a\":1}"}));
  Invocation join = parse({"mesh", "join", "msm1-abc", "--force"});
  EXPECT_EQ(join.command, "mesh join");
  EXPECT_TRUE(join.force);
  EXPECT_EQ(join.args, (std::vector<std::string>{"msm1-abc"}));
  EXPECT_TRUE(parse({"--help"}).help.has_value());
  EXPECT_NE(parse({"set", "--help"}).help->find("@FILE"), std::string::npos);
}

TEST(CommandLine, UnknownCommandsFlagsAndMissingArgumentsAreUsageErrors) {
  auto bad = [](std::vector<std::string> args) {
    args.insert(args.begin(), "meshslice");
    return parseCommandLine(args).status();
  };
  EXPECT_EQ(bad({"frobnicate"}).message(), "unknown command 'frobnicate'");
  EXPECT_NE(bad({"status", "--colour"}).message().find("--colour"), std::string::npos);
  EXPECT_EQ(bad({}).code(), Code::kInvalidArgument);
  EXPECT_EQ(bad({"get"}).code(), Code::kInvalidArgument);
  EXPECT_EQ(bad({"mesh"}).code(), Code::kInvalidArgument);
  EXPECT_EQ(bad({"up", "--mdns-port", "0"}).code(), Code::kInvalidArgument);
  EXPECT_EQ(bad({"up", "--log-level", "loud"}).code(), Code::kInvalidArgument);
  EXPECT_EQ(bad({"publish", "ns"}).code(), Code::kInvalidArgument);
}

TEST(CommandLine, TyposGetADidYouMean) {
  auto bad = [](std::vector<std::string> args) {
    args.insert(args.begin(), "meshslice");
    return parseCommandLine(args).status().message();
  };
  EXPECT_EQ(bad({"stauts"}), "unknown command 'stauts' (did you mean 'status'?)");
  EXPECT_EQ(bad({"peer"}), "unknown command 'peer' (did you mean 'peers'?)");
  EXPECT_EQ(bad({"frobnicate"}), "unknown command 'frobnicate'") << "nothing close: no guess";
  EXPECT_EQ(bad({"help", "sett"}), "help: unknown command 'sett' (did you mean 'set'?)");
  EXPECT_EQ(bad({"mesh", "alow"}), "unknown command 'mesh alow' (did you mean 'allow'?)");
  EXPECT_EQ(bad({"http", "tokn"}), "unknown command 'http tokn' (did you mean 'token'?)");
}

TEST(CommandLine, HelpCommandVerboseAndUpHelpTellEverything) {
  auto parse = [](std::vector<std::string> args) {
    args.insert(args.begin(), "meshslice");
    auto r = parseCommandLine(args);
    EXPECT_TRUE(r.isOk()) << r.status().toString();
    return r.isOk() ? *r : Invocation{};
  };
  auto help_set = parse({"help", "set"});
  ASSERT_TRUE(help_set.help);
  EXPECT_EQ(*help_set.help, *parse({"set", "--help"}).help);
  EXPECT_EQ(*parse({"help", "mesh", "join"}).help, *parse({"mesh", "join", "--help"}).help);
  EXPECT_EQ(*parse({"help"}).help, *parse({"--help"}).help);
  EXPECT_EQ(parse({"-v", "status"}).flags.log_level, LogLevel::kDebug);
  EXPECT_EQ(parse({"status", "--verbose"}).flags.log_level, LogLevel::kDebug);
  EXPECT_EQ(parse({"-v", "status", "--log-level", "error"}).flags.log_level, LogLevel::kError) << "--log-level wins";
  const std::string up = *parse({"up", "--help"}).help;
  for (const char* word : {"--state-dir", "--log-level", "--listen", "--peer", "--interface", "--store", "--mdns",
                           "--http", "--name", "--config", "~/.local/state/meshslice", "0.0.0.0:0", "default: on",
                           "default: off", "info for up"})
    EXPECT_NE(up.find(word), std::string::npos) << word << " missing from up --help:\n" << up;
  EXPECT_NE(parse({"peers", "--help"}).help->find("listen_address"), std::string::npos) << "--json says what it prints";
  EXPECT_NE(parse({"stores", "--help"}).help->find("local_version"), std::string::npos);
  EXPECT_EQ(parse({"mesh", "allow-list"}).command, "mesh allow-list");
  EXPECT_EQ(parse({"delete", "s"}).command, "rm");
}

}  // namespace
}  // namespace meshslice
