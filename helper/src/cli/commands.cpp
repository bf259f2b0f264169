#include "cli/commands.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/graph_output.hpp"
#include "cli/image_commands.hpp"
#include "cli/options.hpp"
#include "cli/parse_output.hpp"
#include "core/evaluate.hpp"
#include "dockerfile/parser.hpp"
#include "util/files.hpp"

namespace qdi::cli {

namespace {

namespace fs = std::filesystem;

constexpr int kInputError = 1;
constexpr int kUsageError = 2;

struct FlattenOptions {
  std::string dockerfile;
  std::string output;
  std::string stamp;
  std::string depfile;
  std::string depfile_target;
  std::string context_out;
};

Status WriteOrPrint(const std::string& path, const std::string& content) {
  if (path.empty() || path == "-") {
    std::cout << content;
    return Ok{};
  }
  Expected<bool> written = util::WriteFileIfChanged(path, content);
  if (!written) return written.error();
  return Ok{};
}

// Writes the outputs of `flatten`, the stamp last: a stamp on disk means
// that everything it stands for was written.
Status WriteFlattenOutputs(const FlattenOptions& options,
                           const core::Evaluation& evaluation) {
  if (!options.depfile.empty()) {
    std::string target = options.depfile_target;
    if (target.empty())
      target = options.stamp.empty() ? options.output : options.stamp;
    Expected<bool> written =
        util::WriteDepfile(options.depfile, target, evaluation.inputs);
    if (!written) return written.error();
  }
  if (!options.output.empty() || options.stamp.empty()) {
    Status status = WriteOrPrint(options.output, evaluation.flattened.text);
    if (!status) return status;
  }
  if (!options.context_out.empty()) {
    Status status =
        core::WriteContext(evaluation.context_files, options.context_out);
    if (!status) return status;
  }
  if (options.stamp.empty()) return Ok{};
  return WriteOrPrint(options.stamp, evaluation.checksum + "\n");
}

Status RunFlatten(const SharedOptions& shared, const FlattenOptions& options) {
  Expected<graph::Settings> settings = MakeSettings(shared);
  if (!settings) return settings.error();
  graph::Graph graph(std::move(settings.value()));
  Expected<const graph::Image*> top = graph.LoadFile(options.dockerfile);
  if (!top) return top.error();
  Expected<core::Evaluation> evaluation =
      core::Evaluate(graph, **top, shared.debug_hash ? &std::cerr : nullptr);
  if (!evaluation) return evaluation.error();
  return WriteFlattenOutputs(options, *evaluation);
}

Status RunChecksum(const SharedOptions& shared,
                   const std::vector<std::string>& files) {
  Expected<graph::Settings> settings = MakeSettings(shared);
  if (!settings) return settings.error();
  graph::Graph graph(std::move(settings.value()));
  Expected<std::vector<const graph::Image*>> images = graph.LoadFiles(files);
  if (!images) return images.error();
  std::string lines;
  for (size_t i = 0; i < files.size(); ++i) {
    Expected<core::Evaluation> evaluation = core::Evaluate(
        graph, *(*images)[i], shared.debug_hash ? &std::cerr : nullptr);
    if (!evaluation) return evaluation.error();
    lines += evaluation->checksum + "  " + files[i] + "\n";
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

Status RunGraph(SharedOptions shared, const std::string& format,
                const std::string& output) {
  if (shared.search_dirs.empty()) shared.search_dirs.push_back(".");
  for (const std::string& dir : shared.search_dirs) {
    if (!fs::is_directory(dir)) {
      return Error{
          "search folder '" + dir + "' is not a folder; check --search-dir",
          true};
    }
  }
  Expected<graph::Settings> settings = MakeSettings(shared);
  if (!settings) return settings.error();
  graph::Graph graph(std::move(settings.value()));
  auto images = graph.LoadFiles(DockerfilesIn(shared.search_dirs));
  if (!images) return images.error();
  auto entries = DescribeGraph(graph, *images);
  if (!entries) return entries.error();
  std::string text = format == "dot"     ? GraphDot(*entries)
                     : format == "cmake" ? GraphCMake(*entries)
                                         : GraphJson(*entries);
  return WriteOrPrint(output, text);
}

int Report(const Status& status) {
  if (status) return 0;
  std::cerr << "qemu-docker-images: error: " << status.error().message << "\n";
  return status.error().is_usage ? kUsageError : kInputError;
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

  SharedOptions shared;
  FlattenOptions flatten;
  CLI::App* flatten_command =
      app.add_subcommand("flatten", "Print or write the flattened Dockerfile");
  flatten_command->add_option("DOCKERFILE", flatten.dockerfile)->required();
  flatten_command->add_option("-o,--output", flatten.output,
                              "Write the flattened Dockerfile here");
  flatten_command->add_option("--stamp", flatten.stamp,
                              "Write the checksum here");
  flatten_command->add_option("--depfile", flatten.depfile,
                              "Write a Make-syntax depfile of every input");
  flatten_command->add_option("--depfile-target", flatten.depfile_target,
                              "The target named in the depfile (default: "
                              "the stamp, else the output)");
  flatten_command->add_option("--context-out", flatten.context_out,
                              "Copy the flattened file's build context here");
  AddSharedOptions(flatten_command, &shared);

  std::vector<std::string> checksum_files;
  CLI::App* checksum_command = app.add_subcommand(
      "checksum", "Print '<checksum>  <file>' for each Dockerfile");
  checksum_command->add_option("DOCKERFILE", checksum_files)->required();
  AddSharedOptions(checksum_command, &shared);

  std::string parse_file;
  CLI::App* parse_command =
      app.add_subcommand("parse", "Dump what the parser understood, as JSON");
  bool json = true;
  parse_command->add_flag("--json", json, "Print JSON (the only format)");
  parse_command->add_option("DOCKERFILE", parse_file)->required();

  std::string format = "json";
  std::string graph_output;
  CLI::App* graph_command =
      app.add_subcommand("graph", "Describe every image of the search folders");
  graph_command->add_option("--format", format, "json, dot or cmake")
      ->check(CLI::IsMember({"json", "dot", "cmake"}));
  graph_command->add_option("-o,--output", graph_output, "Write it here");
  AddSharedOptions(graph_command, &shared);

  EngineOptions engine;
  BuildOptions build;
  CLI::App* build_command = AddBuildCommand(&app, &shared, &engine, &build);
  CheckOptions check;
  CLI::App* check_command = AddCheckCommand(&app, &engine, &check);

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
  if (*flatten_command) return Report(RunFlatten(shared, flatten));
  if (*checksum_command) return Report(RunChecksum(shared, checksum_files));
  if (*parse_command) return Report(RunParse(parse_file));
  if (*build_command) return Report(RunBuild(shared, engine, build));
  if (*check_command) return Report(RunCheck(engine, check));
  return Report(RunGraph(shared, format, graph_output));
}

}  // namespace qdi::cli
