#pragma once

// Errors are values in the core library: a function that can fail returns
// Expected<T>, and only main() prints the error, once.  Debian 12 packages no
// expected-type library and GCC 12's std::expected needs C++23, which clang
// 14 (our fuzzing compiler) cannot compile, hence this small class.

#include <string>
#include <utility>
#include <variant>

namespace qdi {

// A failure already worded for the user: "file:line: what is wrong; what to
// do".  The "qemu-docker-images: error: " prefix is added by main().
struct Error {
  std::string message;
  // Usage errors (wrong command line) exit with a different status than
  // input errors (bad Dockerfiles, missing files).
  bool is_usage = false;
};

// Builds an Error whose message starts with "file:line: " when a line is
// known, or "file: " when only the file is.
Error ErrorAt(const std::string& file, int line, const std::string& what);

struct Ok {};

template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Expected(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

using Status = Expected<Ok>;

}  // namespace qdi
