// Throughput of the helper's core on real and generated Dockerfiles: how
// many bytes of Dockerfile per second it parses, flattens and checksums,
// next to XXH3-128 alone over the same bytes, which no checksum of those
// bytes can beat.  It measures and reports; it never fails on speed.
//
// Usage: qdi_bench [--inputs=DIR] [--corpus=DIR] [benchmark options]
//   --inputs  the folder of generate.py's outputs: big/*.docker, each one
//             image, and chain-N/ folders, each a chain whose top is the
//             file that sorts last by number
//   --corpus  the folder of the qemu-20XX/dockerfiles snapshots
// A missing folder only leaves its benchmarks out.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>
#include <xxhash.h>

#include "core/evaluate.hpp"
#include "dockerfile/parser.hpp"
#include "flatten/flattener.hpp"
#include "graph/graph.hpp"

namespace {

namespace fs = std::filesystem;

// What one row of benchmarks works on.  Every Dockerfile that the work
// reads is in `files`, so bytes per second count each input byte once.
struct Input {
  std::string label;
  std::vector<std::string> files;  // every Dockerfile read
  std::vector<std::string> tops;   // the images flattened and checksummed
  std::vector<std::string> texts;  // the contents of `files`
  size_t bytes = 0;
  std::string joined;  // all texts, for the XXH3 floor
  // The files that QEMU staged with --extra-files, as the corpus tests
  // pass them: without them two images of the corpus do not checksum.
  qdi::graph::Settings settings;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The *.docker files of `dir`, sorted, so that runs are comparable.
std::vector<std::string> DockerfilesIn(const fs::path& dir) {
  std::vector<std::string> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".docker") {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

Input MakeInput(std::string label, std::vector<std::string> files,
                std::vector<std::string> tops) {
  Input input;
  input.label = std::move(label);
  input.files = std::move(files);
  input.tops = std::move(tops);
  for (const std::string& file : input.files) {
    input.texts.push_back(ReadAll(file));
    input.bytes += input.texts.back().size();
    input.joined += input.texts.back();
  }
  return input;
}

// A chain folder's top is c(N-1): the highest number, not the last name.
std::string ChainTop(const fs::path& dir) {
  size_t count = DockerfilesIn(dir).size();
  return (dir / ("c" + std::to_string(count - 1) + ".docker")).string();
}

void AddCorpusExtraFiles(std::string_view year, const fs::path& dir,
                         qdi::graph::Settings* settings) {
  if (year == "qemu-2017") {
    settings->per_image["debian-powerpc-cross"].extra_files = {
        (dir / "debian-apt-fake.sh").string()};
  } else if (year == "qemu-2021") {
    settings->per_image["debian-toolchain"].extra_files = {
        (dir / "debian-nios2-cross.d" / "build-toolchain.sh").string()};
  }
}

std::vector<Input> FindInputs(const std::string& inputs,
                              const std::string& corpus) {
  std::vector<Input> found;
  std::error_code error;
  for (const char* year : {"qemu-2017", "qemu-2020", "qemu-2021"}) {
    fs::path dir = fs::path(corpus) / year / "dockerfiles";
    if (corpus.empty() || !fs::is_directory(dir, error)) continue;
    std::vector<std::string> files = DockerfilesIn(dir);
    found.push_back(MakeInput(year, files, files));
    AddCorpusExtraFiles(year, dir, &found.back().settings);
  }
  if (inputs.empty() || !fs::is_directory(inputs, error)) return found;
  if (fs::is_directory(fs::path(inputs) / "big", error)) {
    for (const std::string& file : DockerfilesIn(fs::path(inputs) / "big")) {
      std::string label = "big-" + fs::path(file).stem().string();
      found.push_back(MakeInput(label, {file}, {file}));
    }
  }
  for (int depth : {10, 100, 1000}) {
    fs::path dir = fs::path(inputs) / ("chain-" + std::to_string(depth));
    if (!fs::is_directory(dir, error)) continue;
    found.push_back(MakeInput("chain-" + std::to_string(depth),
                              DockerfilesIn(dir), {ChainTop(dir)}));
  }
  return found;
}

void Parse(benchmark::State& state, const Input* input) {
  for (auto _ : state) {
    for (size_t i = 0; i < input->files.size(); ++i) {
      auto parsed = qdi::dockerfile::Parse(input->texts[i], input->files[i]);
      if (!parsed) state.SkipWithError(parsed.error().message.c_str());
      benchmark::DoNotOptimize(parsed);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(input->bytes));
}

using Work = bool (*)(const qdi::graph::Graph&, const qdi::graph::Image&,
                      benchmark::State&);

// Loads the inputs' graph afresh, as one helper process does, then runs
// `work` on each top image; reading the files is part of what is timed.
void OverGraph(benchmark::State& state, const Input* input, Work work) {
  for (auto _ : state) {
    qdi::graph::Graph graph(input->settings);
    auto images = graph.LoadFiles(input->tops);
    if (!images) {
      state.SkipWithError(images.error().message.c_str());
      break;
    }
    for (const qdi::graph::Image* image : *images) {
      if (!work(graph, *image, state)) break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(input->bytes));
}

bool FlattenOne(const qdi::graph::Graph& graph, const qdi::graph::Image& image,
                benchmark::State& state) {
  auto flattened = qdi::flatten::Flatten(graph, image);
  if (!flattened) state.SkipWithError(flattened.error().message.c_str());
  benchmark::DoNotOptimize(flattened);
  return flattened.has_value();
}

// As the checksum command does it: the flattened text is hashed as it is
// produced and not kept.
bool ChecksumOne(const qdi::graph::Graph& graph, const qdi::graph::Image& image,
                 benchmark::State& state) {
  qdi::core::Evaluator evaluator(graph, nullptr, /*keep_text=*/false);
  auto evaluation = evaluator.Evaluate(image);
  if (!evaluation) state.SkipWithError(evaluation.error().message.c_str());
  benchmark::DoNotOptimize(evaluation);
  return evaluation.has_value();
}

void Flatten(benchmark::State& state, const Input* input) {
  OverGraph(state, input, FlattenOne);
}

void Checksum(benchmark::State& state, const Input* input) {
  OverGraph(state, input, ChecksumOne);
}

// `work` alone: the graph is loaded (read, parsed, analysed) once, before
// the timed loop.
void OverLoadedGraph(benchmark::State& state, const Input* input, Work work) {
  qdi::graph::Graph graph(input->settings);
  auto images = graph.LoadFiles(input->tops);
  if (!images) {
    state.SkipWithError(images.error().message.c_str());
    return;
  }
  for (auto _ : state) {
    for (const qdi::graph::Image* image : *images) {
      if (!work(graph, *image, state)) break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(input->bytes));
}

void FlattenAlone(benchmark::State& state, const Input* input) {
  OverLoadedGraph(state, input, FlattenOne);
}

void ChecksumAlone(benchmark::State& state, const Input* input) {
  OverLoadedGraph(state, input, ChecksumOne);
}

void Xxh3(benchmark::State& state, const Input* input) {
  for (auto _ : state) {
    XXH128_hash_t hash =
        XXH3_128bits(input->joined.data(), input->joined.size());
    benchmark::DoNotOptimize(hash);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(input->bytes));
}

// Takes "--NAME=VALUE" out of argv, so that Google Benchmark does not
// reject it as one of its own options.
std::string TakeOption(int* argc, char** argv, std::string_view name) {
  std::string prefix = "--" + std::string(name) + "=";
  for (int i = 1; i < *argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.substr(0, prefix.size()) != prefix) continue;
    std::string value(arg.substr(prefix.size()));
    std::copy(argv + i + 1, argv + *argc, argv + i);
    --*argc;
    return value;
  }
  return "";
}

void Register(const std::vector<Input>& inputs) {
  for (const Input& input : inputs) {
    const Input* in = &input;
    benchmark::RegisterBenchmark(("parse/" + input.label).c_str(), Parse, in)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("flatten/" + input.label).c_str(), Flatten,
                                 in)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("checksum/" + input.label).c_str(), Checksum,
                                 in)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("flatten-alone/" + input.label).c_str(),
                                 FlattenAlone, in)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("checksum-alone/" + input.label).c_str(),
                                 ChecksumAlone, in)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("xxh3/" + input.label).c_str(), Xxh3, in)
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string inputs = TakeOption(&argc, argv, "inputs");
  std::string corpus = TakeOption(&argc, argv, "corpus");
  // The inputs must outlive the benchmarks that point at them.
  static const std::vector<Input> found = FindInputs(inputs, corpus);
  if (found.empty()) {
    std::cerr << "qdi_bench: no inputs found; pass --inputs=DIR made by "
                 "generate.py or --corpus=DIR\n";
  }
  Register(found);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
