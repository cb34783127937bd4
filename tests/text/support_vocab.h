// Paths of the tokenizer fixtures shared by the text tests.
#pragma once

#include <string>

#include "support/fixtures.h"

namespace pangolin::test {

inline std::string vocab_gguf(const std::string& name) {
    return (shared_dir() / "fixtures" / "vocab" / ("ggml-vocab-" + name + ".gguf")).string();
}
inline std::filesystem::path kjv_dir() { return shared_dir() / "models" / "kjv-demo"; }
inline std::filesystem::path e2e_dir() { return shared_dir() / "fixtures" / "e2e"; }

}  // namespace pangolin::test
