// Errors a user can act on. Everything that comes from user input (files, flags, requests)
// is reported by throwing pangolin::Error with a message that names the file, tensor or
// value at fault; the CLI catches it, prints it to stderr and exits non-zero.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace pangolin {

class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Concatenates any streamable values: str_cat("tensor ", name, " has ", n, " rows").
template <typename... Parts>
std::string str_cat(Parts&&... parts) {
    std::ostringstream out;
    (out << ... << std::forward<Parts>(parts));
    return out.str();
}

template <typename... Parts>
[[noreturn]] void fail(Parts&&... parts) {
    throw Error(str_cat(std::forward<Parts>(parts)...));
}

// Checks a condition that depends on user input (never compiled out, unlike assert).
template <typename... Parts>
void require(bool condition, Parts&&... parts) {
    if (!condition) fail(std::forward<Parts>(parts)...);
}

}  // namespace pangolin
