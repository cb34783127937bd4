// Tokenizer fixtures shared by the text tests: paths, llama.cpp's .inp/.out test vectors.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/fixtures.h"

namespace pangolin::test {

inline std::string vocab_gguf(const std::string& name) {
    return (shared_dir() / "fixtures" / "vocab" / ("ggml-vocab-" + name + ".gguf")).string();
}
inline std::filesystem::path kjv_dir() {
    return shared_dir() / "models" / "kjv-demo";
}
inline std::filesystem::path e2e_dir() {
    return shared_dir() / "fixtures" / "e2e";
}

struct VocabCase {
    std::string text;
    std::vector<int32_t> ids;
};

// ggml-vocab-<name>.gguf.inp holds each string followed by "\n__ggml_vocab_test__\n" (so a
// string's own trailing newlines belong to it); .out one line of space-separated ids per string.
inline std::vector<VocabCase> read_vocab_cases(const std::string& name) {
    const std::string inp = read_file(vocab_gguf(name) + ".inp"),
                      out = read_file(vocab_gguf(name) + ".out");
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<VocabCase> cases;
    size_t pos = 0, line = 0;
    for (size_t hit; (hit = inp.find(sep, pos)) != std::string::npos; pos = hit + sep.size()) {
        const size_t eol = out.find('\n', line);
        if (eol == std::string::npos)
            throw std::runtime_error(name + ": .out has fewer lines than .inp has strings");
        VocabCase c{inp.substr(pos, hit - pos), {}};
        std::istringstream ids(out.substr(line, eol - line));
        for (int32_t id; ids >> id;) c.ids.push_back(id);
        cases.push_back(std::move(c));
        line = eol + 1;
    }
    if (pos != inp.size() || line != out.size())
        throw std::runtime_error(name + ": .inp and .out do not pair up");
    return cases;
}

inline std::string ids_str(const std::vector<int32_t>& ids) {
    std::string s;
    for (const int32_t id : ids) s += " " + std::to_string(id);
    return s;
}

}  // namespace pangolin::test
