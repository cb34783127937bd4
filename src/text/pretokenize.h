// Pre-tokenization for byte-level BPE: a list of Unicode regexes (PCRE2, UTF + UCP) applied
// in turn, as llama.cpp's unicode_regex_split does. Each regex cuts every current piece into
// its matches and the text between them (both kept), so later regexes refine earlier cuts.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "text/vocab.h"

namespace pangolin {

// The regexes of a pre-tokenizer (llama.cpp's per-type lists).
const std::vector<std::string>& pre_tokenizer_patterns(PreTokenizer pre);

class RegexSplitter {
  public:
    explicit RegexSplitter(const std::vector<std::string>& patterns);
    ~RegexSplitter();
    RegexSplitter(const RegexSplitter&) = delete;
    RegexSplitter& operator=(const RegexSplitter&) = delete;

    // Replaces `pieces` with the pieces of `text` (views into it, in order, covering it).
    // `text` must be valid UTF-8. Safe to call from several threads at once.
    void split(std::string_view text, std::vector<std::string_view>& pieces) const;

  private:
    struct Pattern;
    std::vector<std::unique_ptr<Pattern>> patterns_;
};

}  // namespace pangolin
