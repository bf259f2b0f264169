#include "cli/commands.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <sys/stat.h>

#include "cli/graph_output.hpp"
#include "cli/graph_state.hpp"
#include "cli/image_commands.hpp"
#include "cli/options.hpp"
#include "cli/parse_output.hpp"
#include "cli/run_command.hpp"
#include "core/evaluate.hpp"
#include "dockerfile/parser.hpp"
#include "util/files.hpp"

namespace qdi::cli {

namespace {

namespace fs = std::filesystem;

constexpr int kInputError = 1;
constexpr int kUsageError = 2;

// Returns `object`, which is never destroyed.  The commands that load a
// whole folder end right after their answer, and freeing thousands of
// parsed files one allocation at a time, on one core, took a tenth to a
// sixth of a 5,000-image checksum.  The kernel takes the memory back at
// exit instead.  A pointer to each stays reachable, so LeakSanitizer
// reports no leak.
template <typename T>
T& KeptUntilExit(std::unique_ptr<T> object) {
  static auto* kept = new std::vector<const void*>;
  kept->push_back(object.get());
  return *object.release();
}

struct FlattenOptions {
  std::string dockerfile;
  std::string output;
  std::string stamp;
  std::string depfile;
  std::string depfile_target;
  std::string context_out;
  std::string checked;
  // The local bases the build files were generated with, comma-separated,
  // or "-" for none; checked only when given.
  std::string expected_bases;
  bool check_bases = false;
  // NAME=FILE: the checksum stamp of local base NAME, which the depfile
  // names instead of NAME's own inputs.
  std::vector<std::string> base_stamps;
};

// Splits the --base-stamp values at their first '='.
Expected<std::map<std::string, std::string>> BaseStamps(
    const std::vector<std::string>& values) {
  std::map<std::string, std::string> stamps;
  for (const std::string& value : values) {
    size_t equals = value.find('=');
    if (equals == 0 || equals == std::string::npos ||
        equals + 1 == value.size()) {
      return Error{"--base-stamp '" + value +
                       "' is not NAME=FILE; give the base's name and "
                       "its checksum stamp",
                   true};
    }
    stamps[value.substr(0, equals)] = value.substr(equals + 1);
  }
  return stamps;
}

Status WriteOrPrint(const std::string& path, const std::string& content) {
  if (path.empty() || path == "-") {
    std::cout << content;
    return Ok{};
  }
  Expected<bool> written = util::WriteFileIfChanged(path, content);
  if (!written) return written.error();
  return Ok{};
}

// The depfile's target: the file the build tool asked for, which is the
// marker, else the stamp, else the flattened file.
std::string DepfileTarget(const FlattenOptions& options) {
  if (!options.depfile_target.empty()) return options.depfile_target;
  if (!options.checked.empty()) return options.checked;
  return options.stamp.empty() ? options.output : options.stamp;
}

// Make has no "restat": an output left unchanged stays older than the
// edited Dockerfile, so its step would run at every build.  A marker whose
// time always moves tells Make that the step is done.
Status WriteMarker(const std::string& path, const std::string& content) {
  Expected<bool> written = util::WriteFileIfChanged(path, content);
  if (!written) return written.error();
  return *written ? Ok{} : util::TouchFile(path);
}

// Writes the outputs of `flatten`: all of them or, when one cannot be
// written, none.  The stamp is renamed into place last, so a stamp on disk
// means that everything it stands for was written.
Status WriteFlattenOutputs(const FlattenOptions& options,
                           const core::Evaluation& evaluation,
                           const std::vector<std::string>& depfile_inputs) {
  util::StagedWrites writes;
  if (!options.depfile.empty()) {
    Status staged = util::StageDepfile(writes, options.depfile,
                                       DepfileTarget(options), depfile_inputs);
    if (!staged) return staged;
  }
  // Without -o the flattened text is printed, unless only a stamp is asked
  // for; "-o -" prints it in any case.
  bool print = options.output == "-" ||
               (options.output.empty() && options.stamp.empty());
  if (!print && !options.output.empty()) {
    Status staged = writes.Stage(options.output, evaluation.flattened.text);
    if (!staged) return staged;
  }
  if (!options.stamp.empty()) {
    Status staged = writes.Stage(options.stamp, evaluation.checksum + "\n");
    if (!staged) return staged;
  }
  if (!options.context_out.empty()) {
    Status status =
        core::WriteContext(evaluation.context_files, options.context_out);
    if (!status) return status;
  }
  Expected<size_t> committed = writes.Commit();
  if (!committed) return committed.error();
  if (print) std::cout << evaluation.flattened.text;
  if (options.checked.empty()) return Ok{};
  return WriteMarker(options.checked, evaluation.checksum + "\n");
}

// With Make, a changed FROM line is seen by the build files only at the
// next build; failing here keeps an image from being built before its new
// base in the meantime.
Status CheckBases(const graph::Image& image, const std::string& expected) {
  std::vector<std::string> actual = image.local_bases;
  std::sort(actual.begin(), actual.end());
  std::string now;
  for (const std::string& base : actual) now += (now.empty() ? "" : ",") + base;
  std::vector<std::string> listed;
  for (size_t start = 0; expected != "-" && start < expected.size();) {
    size_t comma = std::min(expected.find(',', start), expected.size());
    listed.push_back(expected.substr(start, comma - start));
    start = comma + 1;
  }
  std::sort(listed.begin(), listed.end());
  if (listed == actual) return Ok{};
  int line = actual.empty() ? 1 : image.local_base_lines.at(actual.front());
  return ErrorAt(image.path, line,
                 "the local bases of " + image.name + " changed (now '" + now +
                     "', the build files have '" + expected +
                     "'); the build files are regenerated when the build "
                     "starts again, so run the build again");
}

Status RunFlatten(const SharedOptions& shared, const FlattenOptions& options) {
  bool has_target = !options.depfile_target.empty() ||
                    !options.output.empty() || !options.stamp.empty();
  if (!options.depfile.empty() && !has_target) {
    return Error{
        "--depfile needs a file to name as its target; give -o, "
        "--stamp or --depfile-target",
        true};
  }
  Expected<graph::Settings> settings = MakeSettings(shared);
  if (!settings) return settings.error();
  graph::Graph graph(std::move(settings.value()));
  Expected<const graph::Image*> top = graph.LoadFile(options.dockerfile);
  if (!top) return top.error();
  if (options.check_bases) {
    if (Status status = CheckBases(**top, options.expected_bases); !status) {
      return status;
    }
  }
  Expected<std::map<std::string, std::string>> stamps =
      BaseStamps(options.base_stamps);
  if (!stamps) return stamps.error();
  Expected<core::Evaluation> evaluation =
      core::Evaluate(graph, **top, shared.debug_hash ? &std::cerr : nullptr);
  if (!evaluation) return evaluation.error();
  return WriteFlattenOutputs(
      options, *evaluation,
      core::InputsAbove(graph, **top, *evaluation, *stamps));
}

Status RunChecksum(const SharedOptions& shared,
                   const std::vector<std::string>& files) {
  Expected<graph::Settings> settings = MakeSettings(shared);
  if (!settings) return settings.error();
  graph::Graph& graph = KeptUntilExit(
      std::make_unique<graph::Graph>(std::move(settings.value())));
  Expected<std::vector<const graph::Image*>> images = graph.LoadFiles(files);
  if (!images) return images.error();
  core::Evaluator& evaluator = KeptUntilExit(std::make_unique<core::Evaluator>(
      graph, shared.debug_hash ? &std::cerr : nullptr, /*keep_text=*/false));
  std::vector<Expected<std::string>> checksums = evaluator.Checksums(*images);
  std::string lines;
  for (size_t i = 0; i < files.size(); ++i) {
    if (!checksums[i]) return checksums[i].error();
    lines += *checksums[i] + "  " + files[i] + "\n";
  }
  std::cout << lines;
  return Ok{};
}

Status RunParse(const std::string& path) {
  Expected<dockerfile::Dockerfile> file = dockerfile::ParseFile(path);
  if (!file) return file.error();
  std::cout << ParseJson(*file);
  return Ok{};
}

std::vector<std::string> DockerfilesIn(const std::vector<std::string>& dirs) {
  std::vector<std::string> files;
  for (const std::string& dir : dirs) {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
      if (entry.path().extension() == ".docker" && entry.is_regular_file()) {
        files.push_back(entry.path().string());
      }
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

struct GraphOptions {
  std::string format = "json";
  std::string output;
  std::string edges_out;
  std::string depfile;
  std::string checked;
  std::string state_dir;  // the module's folder of per-image stamps
  bool bases_only = false;
  bool with_external = false;  // external bases in the edges format too
  // NAME FILE: an image of the build named otherwise than its file.
  StringPairs virtual_images;
};

Status CheckSearchDirs(const std::vector<std::string>& dirs) {
  for (const std::string& dir : dirs) {
    if (!fs::is_directory(dir)) {
      return Error{
          "search folder '" + dir + "' is not a folder; check --search-dir",
          true};
    }
  }
  return Ok{};
}

// The graph depends on every Dockerfile and on the folders themselves,
// whose timestamps change when a Dockerfile is added or removed.
std::vector<std::string> GraphInputs(const std::vector<std::string>& dirs,
                                     const std::vector<std::string>& files) {
  std::vector<std::string> inputs = dirs;
  inputs.insert(inputs.end(), files.begin(), files.end());
  return inputs;
}

// Adds an entry under the name of each virtual image, right after the
// entry of its file, whose own name is then often not an image of the
// build at all (QEMU's debian-toolchain, built only as debian-nios2-cross
// and debian-microblaze-cross).
Status AddVirtualImages(const StringPairs& virtual_images,
                        std::vector<GraphEntry>* entries) {
  for (const auto& [name, file] : virtual_images) {
    // Only an image named like the file can be it: one stat per check.
    std::string stem = graph::ImageNameOf(file);
    auto same_file = [&](const GraphEntry& entry) {
      std::error_code error;
      return entry.image->name == stem &&
             fs::equivalent(entry.image->path, file, error);
    };
    auto found = std::find_if(entries->begin(), entries->end(), same_file);
    if (found == entries->end()) {
      return Error{"virtual image '" + name + "': " + file +
                       " is not a Dockerfile of the search folders; give "
                       "its folder with --search-dir",
                   true};
    }
    GraphEntry entry = *found;
    entry.name = name;
    // After the file's other virtual images: in the order they were given.
    auto after = found + 1;
    while (after != entries->end() && after->image == found->image) ++after;
    entries->insert(after, std::move(entry));
  }
  return Ok{};
}

// With --state-dir, only the images of that build folder are shown, each
// with its state.
std::string RenderGraph(const GraphOptions& options,
                        std::vector<GraphEntry> entries) {
  ImageStates states;
  if (!options.state_dir.empty()) {
    states = ReadImageStates(options.state_dir, entries);
    entries = EntriesWithState(std::move(entries), states);
  }
  if (options.format == "dot") return GraphDot(entries, states);
  if (options.format == "text") return GraphText(entries, states);
  if (options.format == "cmake") return GraphCMake(entries);
  if (options.format == "edges") {
    return GraphEdges(entries, options.with_external);
  }
  return GraphJson(entries);
}

Status RunGraph(SharedOptions shared, const GraphOptions& options) {
  if (shared.search_dirs.empty()) shared.search_dirs.push_back(".");
  if (Status status = CheckSearchDirs(shared.search_dirs); !status) {
    return status;
  }
  Expected<graph::Settings> settings = MakeSettings(shared);
  if (!settings) return settings.error();
  graph::Graph& graph = KeptUntilExit(
      std::make_unique<graph::Graph>(std::move(settings.value())));
  std::vector<std::string> files = DockerfilesIn(shared.search_dirs);
  auto images = graph.LoadFiles(files);
  if (!images) return images.error();
  // Only JSON and the CMake script list context files.  Finding them can
  // fail for a file that is built only as virtual images, whose extra
  // files are not given here.
  bool shows_files = options.format == "json" || options.format == "cmake";
  auto entries =
      DescribeGraph(graph, *images, shows_files && !options.bases_only);
  if (!entries) return entries.error();
  Status added = AddVirtualImages(options.virtual_images, &entries.value());
  if (!added) return added;
  std::string text = RenderGraph(options, *entries);
  if (!options.depfile.empty()) {
    std::string target = !options.checked.empty()    ? options.checked
                         : options.edges_out.empty() ? options.output
                                                     : options.edges_out;
    Expected<bool> written = util::WriteDepfile(
        options.depfile, target, GraphInputs(shared.search_dirs, files));
    if (!written) return written.error();
  }
  if (!options.edges_out.empty()) {
    Expected<bool> written = util::WriteFileIfChanged(
        options.edges_out, GraphEdges(*entries, options.with_external));
    if (!written) return written.error();
  }
  if (Status status = WriteOrPrint(options.output, text); !status) {
    return status;
  }
  if (options.checked.empty()) return Ok{};
  return WriteMarker(options.checked, "");
}

int Report(const Status& status) {
  if (status) return 0;
  std::cerr << "qemu-docker-images: error: " << status.error().message << "\n";
  return status.error().is_usage ? kUsageError : kInputError;
}

// Every value the command line can set, for whichever subcommand it names.
struct CommandLine {
  SharedOptions shared;
  FlattenOptions flatten;
  std::vector<std::string> checksum_files;
  std::string parse_file;
  bool json = true;
  GraphOptions graph;
  EngineOptions engine;
  BuildOptions build;
  CheckOptions check;
  IdentifyOptions identify;
  RunOptions run;
};

CLI::App* AddFlattenCommand(CLI::App* app, CommandLine* line) {
  FlattenOptions& flatten = line->flatten;
  CLI::App* command =
      app->add_subcommand("flatten", "Print or write the flattened Dockerfile");
  command->add_option("DOCKERFILE", flatten.dockerfile)->required();
  command->add_option("-o,--output", flatten.output,
                      "Write the flattened Dockerfile here");
  command->add_option("--stamp", flatten.stamp, "Write the checksum here");
  command->add_option("--depfile", flatten.depfile,
                      "Write a Make-syntax depfile of every input");
  command->add_option("--depfile-target", flatten.depfile_target,
                      "The target named in the depfile (default: "
                      "the stamp, else the output)");
  command->add_option("--checked", flatten.checked,
                      "A marker rewritten at every successful run, "
                      "after the stamp");
  command->add_option("--context-out", flatten.context_out,
                      "Copy the flattened file's build context here");
  command
      ->add_option(
          "--expect-bases", flatten.expected_bases,
          "Fail unless the local bases are these (a,b,...; - for none)")
      ->each([&flatten](const std::string&) { flatten.check_bases = true; });
  command->add_option(
      "--base-stamp", flatten.base_stamps,
      "NAME=FILE: the depfile names this checksum stamp of local base NAME "
      "instead of NAME's inputs (repeatable)");
  AddSharedOptions(command, &line->shared);
  return command;
}

CLI::App* AddChecksumCommand(CLI::App* app, CommandLine* line) {
  CLI::App* command = app->add_subcommand(
      "checksum", "Print '<checksum>  <file>' for each Dockerfile");
  command->add_option("DOCKERFILE", line->checksum_files)->required();
  AddSharedOptions(command, &line->shared);
  return command;
}

CLI::App* AddParseCommand(CLI::App* app, CommandLine* line) {
  CLI::App* command =
      app->add_subcommand("parse", "Dump what the parser understood, as JSON");
  command->add_flag("--json", line->json, "Print JSON (the only format)");
  command->add_option("DOCKERFILE", line->parse_file)->required();
  return command;
}

CLI::App* AddGraphCommand(CLI::App* app, CommandLine* line) {
  GraphOptions& graph = line->graph;
  CLI::App* command = app->add_subcommand(
      "graph", "Describe every image of the search folders");
  command
      ->add_option("--format", graph.format, "json, dot, text, cmake or edges")
      ->check(CLI::IsMember({"json", "dot", "text", "cmake", "edges"}));
  command->add_option("--state-dir", graph.state_dir,
                      "The module's folder of image stamps: show the "
                      "state of its images, and only those");
  command->add_option("-o,--output", graph.output, "Write it here");
  command->add_option("--edges-out", graph.edges_out,
                      "Also write the edges format here: a file that "
                      "changes only when images or bases change");
  command->add_option("--depfile", graph.depfile,
                      "Write a depfile for --edges-out (else -o)");
  command->add_option("--checked", graph.checked,
                      "A marker rewritten at every successful run");
  command->add_flag("--bases-only", graph.bases_only,
                    "Do not resolve the context files");
  command->add_flag("--with-external", graph.with_external,
                    "List the external bases in the edges format too");
  command->add_option("--virtual-image", graph.virtual_images,
                      "NAME FILE: also show FILE as the image NAME");
  AddSharedOptions(command, &line->shared);
  return command;
}

// A subcommand: how to add it to the parser, and what runs once it parsed.
struct Subcommand {
  std::string_view name;
  CLI::App* (*add)(CLI::App* app, CommandLine* line);
  int (*run)(const CommandLine& line);
};

// In the order of the usage message.
const Subcommand kSubcommands[] = {
    {"flatten", AddFlattenCommand,
     [](const CommandLine& line) {
       return Report(RunFlatten(line.shared, line.flatten));
     }},
    {"checksum", AddChecksumCommand,
     [](const CommandLine& line) {
       return Report(RunChecksum(line.shared, line.checksum_files));
     }},
    {"parse", AddParseCommand,
     [](const CommandLine& line) { return Report(RunParse(line.parse_file)); }},
    {"graph", AddGraphCommand,
     [](const CommandLine& line) {
       return Report(RunGraph(line.shared, line.graph));
     }},
    {"build",
     [](CLI::App* app, CommandLine* line) {
       return AddBuildCommand(app, &line->shared, &line->engine, &line->build);
     },
     [](const CommandLine& line) {
       return Report(RunBuild(line.shared, line.engine, line.build));
     }},
    {"check",
     [](CLI::App* app, CommandLine* line) {
       return AddCheckCommand(app, &line->engine, &line->check);
     },
     [](const CommandLine& line) {
       return Report(RunCheck(line.engine, line.check));
     }},
    {"identify",
     [](CLI::App* app, CommandLine* line) {
       return AddIdentifyCommand(app, &line->engine, &line->identify);
     },
     [](const CommandLine& line) {
       return Report(RunIdentify(line.engine, line.identify));
     }},
    {"run",
     [](CLI::App* app, CommandLine* line) {
       return AddRunCommand(app, &line->engine, &line->run);
     },
     [](const CommandLine& line) {
       Expected<int> status = RunRun(line.engine, line.run);
       return status ? *status : Report(status.error());
     }},
};

// The subcommand that the first argument names, if it names one.
const Subcommand* NamedSubcommand(int argc, char** argv) {
  if (argc < 2) return nullptr;
  for (const Subcommand& subcommand : kSubcommands) {
    if (subcommand.name == argv[1]) return &subcommand;
  }
  return nullptr;
}

}  // namespace

int Run(int argc, char** argv) {
  CLI::App app{
      "Flattens layered Dockerfiles and checksums what each image "
      "is made of, for build tools.",
      "qemu-docker-images"};
  app.set_version_flag("--version",
                       std::string("qemu-docker-images ") + QDI_VERSION);
  app.require_subcommand(1);

  // Only the subcommand that the first argument names is set up: CLI11
  // builds every option of every subcommand added, which took a quarter of
  // a small folder's checksum.  The usage message and a command line
  // that names none (a mistake, or --help) get them all.
  CommandLine line;
  const Subcommand* named = NamedSubcommand(argc, argv);
  std::vector<std::pair<const Subcommand*, CLI::App*>> added;
  for (const Subcommand& subcommand : kSubcommands) {
    if (named != nullptr && named != &subcommand) continue;
    added.emplace_back(&subcommand, subcommand.add(&app, &line));
  }
  OneValuePerOccurrence(&app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version);
  } catch (const CLI::ParseError& error) {
    std::string what = error.what();
    if (what.size() > 1 && std::islower(what[1])) {
      what[0] = static_cast<char>(std::tolower(what[0]));
    }
    return Report(Error{what + "; run with --help for the usage", true});
  }
  for (const auto& [subcommand, command] : added) {
    if (*command) return subcommand->run(line);
  }
  // require_subcommand(1) leaves no way here.
  return Report(
      Error{"no subcommand given; run with --help for the usage", true});
}

}  // namespace qdi::cli
