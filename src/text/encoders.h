// The pieces of Tokenizer::encode: special-token partitioning of raw text, byte-level BPE of
// one pre-token, SentencePiece BPE of one fragment. Internal to src/text.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "text/vocab.h"

namespace pangolin {

// A stretch of the input: raw text [begin, end), or a special token (token >= 0).
struct Fragment {
    size_t begin = 0, end = 0;
    int32_t token = -1;
};

// Splits special tokens out of `text` as llama.cpp's tokenizer_st_partition does: special
// tokens are taken longest text first; each claims its leftmost non-overlapping occurrences
// in the text not yet claimed. Control and unknown tokens only when `parse_special`;
// user-defined tokens always. Tokens marked lstrip/rstrip also swallow the ASCII whitespace
// before/after them.
void split_special(const Vocab& v, std::string_view text, bool parse_special,
                   std::vector<Fragment>& out);

// Byte-level BPE of one pre-token already in the byte alphabet (byte_level.h): merges by
// rank, lowest first (leftmost on ties). Appends the ids to `out`.
void bpe_encode(const Vocab& v, std::string_view mapped, std::vector<int32_t>& out);

// SentencePiece BPE of `text` (spaces already "▁"): merges the adjacent pair whose union is
// the highest-scoring token (leftmost on ties) until none is left; pieces that are not
// tokens fall back to <0xXX> byte tokens. Appends the ids to `out`.
void spm_encode(const Vocab& v, std::string_view text, std::vector<int32_t>& out);

}  // namespace pangolin
