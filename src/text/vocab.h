// A tokenizer vocabulary as the encoders use it: token texts, scores and attributes, BPE
// merge ranks and the special-token bookkeeping. Filled by a loader (vocab_gguf.cpp,
// vocab_hf.cpp) and completed by finalize_vocab(), which derives everything that follows
// from the stored data (end-of-generation set, special-token matcher, byte tokens, pieces).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pangolin {

class GgufFile;

enum class VocabType { Bpe, Spm };  // byte-level BPE (GGUF "gpt2"), SentencePiece (GGUF "llama")

// Pre-tokenizer regex sets, named as GGUF tokenizer.ggml.pre names them.
enum class PreTokenizer {
    Default,
    Gpt2,
    Llama3,
    Qwen2,
    Qwen35,
    DeepseekLlm,
    DeepseekCoder,
    Deepseek3,
    Starcoder
};

// Token attributes, as llama.cpp's llama_token_attr bits.
enum TokenAttr : uint32_t {
    k_attr_undefined = 0,
    k_attr_unknown = 1u << 0,
    k_attr_unused = 1u << 1,
    k_attr_normal = 1u << 2,
    k_attr_control = 1u << 3,
    k_attr_user_defined = 1u << 4,
    k_attr_byte = 1u << 5,
    k_attr_lstrip = 1u << 7,
    k_attr_rstrip = 1u << 8,
};

// GGUF tokenizer.ggml.token_type values (also SentencePiece's piece types).
enum class GgufTokenType : int64_t {
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6
};
uint32_t token_type_to_attr(int64_t type);

struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenIndex = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

struct BpeMerge {
    int32_t rank = 0;    // position in the merge list: lower merges first
    int32_t result = 0;  // id of the merged token
};

// Trie over the texts of special tokens, for splitting them out of raw text.
struct SpecialMatcher {
    struct Node {
        int32_t token = -1;  // token whose text ends here
    };
    std::vector<Node> nodes{Node{}};
    std::unordered_map<uint64_t, int32_t> edges;  // (node << 8 | byte) → child node
    std::array<bool, 256> first_byte{};           // bytes that start some special token

    void insert(std::string_view text, int32_t token);
    int32_t child(int32_t node, unsigned char byte) const {
        const auto it = edges.find((uint64_t(node) << 8) | byte);
        return it == edges.end() ? -1 : it->second;
    }
};

struct Vocab {
    VocabType type = VocabType::Bpe;
    PreTokenizer pre = PreTokenizer::Default;
    std::string pre_name;  // as found in the source, for messages
    std::string source;    // file or folder it came from, for messages

    std::vector<std::string> text;                  // token id → vocabulary text
    std::vector<float> score;                       // SentencePiece merge priority (higher first)
    std::vector<uint32_t> attr;                     // TokenAttr bits
    TokenIndex index;                               // vocabulary text → token id
    std::unordered_map<uint64_t, BpeMerge> merges;  // (left id << 32 | right id) → merge

    int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, pad = -1;
    int32_t fim_pad = -1, fim_rep = -1, fim_sep = -1;
    bool add_bos = false, add_eos = false;
    bool add_space_prefix = false;  // SentencePiece dummy prefix: " " before text
    bool ignore_merges = false;     // a pre-token that is a whole token skips BPE (Llama 3)
    bool clean_spaces = false;      // decode removes " ," " ." " 's" … (llama.cpp)
    std::string chat_template;

    // Derived by finalize_vocab().
    std::vector<int32_t> eog;             // tokens that end generation
    std::vector<int32_t> special;         // tokens split out of raw text, longest text first
    std::vector<int32_t> special_rank;    // token id → position in `special` (-1 if absent)
    SpecialMatcher matcher;               // over the texts of `special`
    std::array<int32_t, 256> byte_token;  // token for each byte (-1 when absent)
    std::vector<std::string> piece;       // token id → bytes it decodes to (specials rendered)

    size_t size() const { return text.size(); }
    bool has(int32_t id) const { return id >= 0 && size_t(id) < text.size(); }
    std::optional<int32_t> find(std::string_view s) const {
        const auto it = index.find(s);
        if (it == index.end()) return std::nullopt;
        return it->second;
    }
};

// Sets token `id` (growing the vocabulary as needed); fails on a text already used by
// another id. An empty text becomes "[EMPTY_<id>]" as in llama.cpp.
void set_token(Vocab& v, int32_t id, std::string text, float score, uint32_t attr);

// Records the merge "left right" with rank `rank`. Returns false (and records nothing) when
// left, right or their concatenation is not a token.
bool add_merge(Vocab& v, std::string_view left, std::string_view right, int32_t rank);

// Pre-tokenizer from a GGUF tokenizer.ggml.pre name; also sets the flags llama.cpp ties to
// it (clean_spaces, ignore_merges, add_bos). Throws Error for names it does not support.
void set_pre_tokenizer(Vocab& v, const std::string& name);

// Checks ids and flags and derives the finalize fields. Throws Error on inconsistencies.
void finalize_vocab(Vocab& v);

// Loaders (vocab_gguf.cpp, vocab_hf.cpp). Throw Error when there is no usable vocabulary.
Vocab vocab_from_gguf(const GgufFile& gguf);
Vocab vocab_from_hf_folder(const std::string& folder);
// Pieces, scores, types, special ids and the dummy prefix of a SentencePiece tokenizer.model.
void load_sentencepiece_model(Vocab& v, const std::string& path);

}  // namespace pangolin
