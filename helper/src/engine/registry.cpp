#include "engine/registry.hpp"

#include "engine/process.hpp"

namespace qdi::engine {

namespace {

// Docker and Podman both say "manifest unknown" (the registry API's error
// code) for a tag that is not there, which is a cache miss, not a failure.
// TODO: an engine that words a missing tag otherwise has every cache miss
// reported as a failed pull, one line per image, though it still builds.
bool IsMissing(const CommandResult& result) {
  return result.output.find("manifest unknown") != std::string::npos;
}

std::string Failed(const CommandResult& result) {
  return DescribeCommand(result.argv) + " exited with status " +
         std::to_string(result.exit_code) +
         (result.last_line.empty() ? "" : ": " + result.last_line);
}

std::vector<std::string> WithFlags(const std::string& subcommand,
                                   const Registry& registry,
                                   const std::string& ref) {
  std::vector<std::string> args = {subcommand};
  args.insert(args.end(), registry.flags.begin(), registry.flags.end());
  args.push_back(ref);
  return args;
}

// The pulled image is not ours to keep under its cached name when it is
// not used; a failure to untag it changes nothing that matters.
void Forget(const Engine& engine, const std::string& ref) {
  Expected<CommandResult> removed = RunCommand(engine, {"rmi", ref});
  (void)removed;
}

}  // namespace

std::string CachedRef(const Registry& registry, const std::string& checksum) {
  return registry.address + "/" + registry.repository + ":" + checksum;
}

PullResult PullCached(const Engine& engine, const Registry& registry,
                      const std::string& checksum, const std::string& tag) {
  using Kind = PullResult::Kind;
  std::string ref = CachedRef(registry, checksum);
  Expected<CommandResult> pulled =
      RunCommand(engine, WithFlags("pull", registry, ref));
  if (!pulled) return {Kind::kFailed, pulled.error().message};
  if (pulled->exit_code != 0) {
    return {IsMissing(*pulled) ? Kind::kMissing : Kind::kFailed,
            Failed(*pulled)};
  }
  std::optional<std::string> label = ImageChecksum(engine, ref);
  if (label != checksum) {
    Forget(engine, ref);
    return {Kind::kWrongLabel, ref + " is labelled " + kChecksumLabel + "=" +
                                   (label ? *label : std::string("(none)"))};
  }
  Expected<CommandResult> tagged = RunCommand(engine, {"tag", ref, tag});
  if (!tagged) return {Kind::kFailed, tagged.error().message};
  if (tagged->exit_code != 0) return {Kind::kFailed, Failed(*tagged)};
  return {Kind::kPulled, ref};
}

Status PushBuilt(const Engine& engine, const Registry& registry,
                 const std::string& checksum, const std::string& tag) {
  std::string ref = CachedRef(registry, checksum);
  Expected<CommandResult> tagged = RunCommand(engine, {"tag", tag, ref});
  if (!tagged) return tagged.error();
  if (tagged->exit_code != 0) return Error{Failed(*tagged)};
  Expected<CommandResult> pushed =
      RunCommand(engine, WithFlags("push", registry, ref));
  if (!pushed) return pushed.error();
  if (pushed->exit_code != 0) return Error{Failed(*pushed)};
  return Ok{};
}

}  // namespace qdi::engine
