#include "util/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace qdi::util {

namespace {

// Starting a thread costs tens of microseconds; a piece of a folder's
// checksum costs about as much, so a few dozen pieces are needed to gain.
constexpr size_t kPiecesPerThread = 32;
constexpr size_t kMaxThreads = 16;

}  // namespace

void ParallelFor(size_t count, size_t threads,
                 const std::function<void(size_t)>& work) {
  threads = std::min(threads, count);
  if (threads <= 1) {
    for (size_t i = 0; i < count; ++i) work(i);
    return;
  }
  // Pieces are handed out one at a time, since their costs differ widely
  // (an image with a deep chain, or one copying large files).
  std::atomic<size_t> next{0};
  auto drain = [&] {
    for (size_t i = next++; i < count; i = next++) work(i);
  };
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(drain);
  drain();
  for (std::thread& helper : helpers) helper.join();
}

size_t ThreadsFor(size_t count) {
  size_t cores = std::max<size_t>(1, std::thread::hardware_concurrency());
  return std::clamp<size_t>(count / kPiecesPerThread, 1,
                            std::min(cores, kMaxThreads));
}

}  // namespace qdi::util
