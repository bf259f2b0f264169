#pragma once

// Runs independent pieces of work on the machine's cores: a folder's
// checksum reads, parses and hashes thousands of small files, and on two
// cores half of that wall time is waiting that another thread can fill.

#include <cstddef>
#include <functional>

namespace qdi::util {

// Calls `work(i)` once for each i in [0, count), on up to `threads`
// threads (the caller's among them), and returns when all calls have.
// `work` must be safe to call from several threads at once.  With one
// thread, or one piece, everything runs on the caller's thread in order.
void ParallelFor(size_t count, size_t threads,
                 const std::function<void(size_t)>& work);

// How many threads ParallelFor should use for `count` pieces: one per
// core, but one in all when there are too few pieces to pay for starting
// a thread.
size_t ThreadsFor(size_t count);

}  // namespace qdi::util
