#include "text/vocab.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "text/byte_level.h"
#include "text/utf8.h"

namespace pangolin {

uint32_t token_type_to_attr(int64_t type) {
    switch (static_cast<GgufTokenType>(type)) {
        case GgufTokenType::Normal:
            return k_attr_normal;
        case GgufTokenType::Unknown:
            return k_attr_unknown;
        case GgufTokenType::Control:
            return k_attr_control;
        case GgufTokenType::UserDefined:
            return k_attr_user_defined;
        case GgufTokenType::Unused:
            return k_attr_unused;
        case GgufTokenType::Byte:
            return k_attr_byte;
        default:
            return k_attr_undefined;
    }
}

void SpecialMatcher::insert(std::string_view s, int32_t token) {
    int32_t node = 0;
    for (const char c : s) {
        const auto byte = static_cast<unsigned char>(c);
        int32_t next = child(node, byte);
        if (next < 0) {
            next = int32_t(nodes.size());
            nodes.push_back({});
            edges.emplace((uint64_t(node) << 8) | byte, next);
        }
        node = next;
    }
    if (!s.empty()) first_byte[static_cast<unsigned char>(s[0])] = true;
    if (nodes[size_t(node)].token < 0) nodes[size_t(node)].token = token;
}

void set_token(Vocab& v, int32_t id, std::string text, float score, uint32_t attr) {
    // Real vocabularies stay far below this; a larger id is corrupt data, not a reason to
    // allocate gigabytes.
    constexpr int32_t k_max_tokens = 1 << 24;
    require(id >= 0 && id < k_max_tokens, v.source, ": token id ", id, " of '", text,
            "' is outside 0..", k_max_tokens - 1);
    if (size_t(id) >= v.size()) {
        v.text.resize(size_t(id) + 1);
        v.score.resize(size_t(id) + 1, 0.0f);
        v.attr.resize(size_t(id) + 1, k_attr_undefined);
    }
    if (text.empty()) text = str_cat("[EMPTY_", id, "]");
    const auto [it, inserted] = v.index.emplace(text, id);
    require(inserted || it->second == id, v.source, ": duplicate token '", text, "' has ids ",
            it->second, " and ", id);
    if (!v.text[size_t(id)].empty() && v.text[size_t(id)] != text)
        v.index.erase(v.text[size_t(id)]);
    v.text[size_t(id)] = std::move(text);
    v.score[size_t(id)] = score;
    v.attr[size_t(id)] = attr;
}

bool add_merge(Vocab& v, std::string_view left, std::string_view right, int32_t rank) {
    const auto l = v.find(left), r = v.find(right);
    if (!l || !r) return false;
    std::string joined;
    joined.reserve(left.size() + right.size());
    joined.append(left).append(right);
    const auto m = v.find(joined);
    if (!m) return false;
    // A pair listed twice keeps its first (lowest) rank, as a rank map built in order does.
    v.merges.emplace((uint64_t(uint32_t(*l)) << 32) | uint32_t(*r), BpeMerge{rank, *m});
    return true;
}

namespace {

struct PreTokenizerName {
    const char* name;
    PreTokenizer pre;
    bool clean_spaces;
    bool ignore_merges;
    bool add_bos;
};

// GGUF tokenizer.ggml.pre names and the settings llama.cpp's vocabulary loader gives them.
constexpr PreTokenizerName k_pre_names[] = {
    {"default", PreTokenizer::Default, true, false, false},
    {"llama3", PreTokenizer::Llama3, true, true, true},
    {"llama-v3", PreTokenizer::Llama3, true, true, true},
    {"llama-bpe", PreTokenizer::Llama3, true, true, true},
    {"falcon3", PreTokenizer::Llama3, true, true, true},
    {"falcon-h1", PreTokenizer::Llama3, true, true, true},
    {"pixtral", PreTokenizer::Llama3, true, true, true},
    {"dbrx", PreTokenizer::Llama3, true, false, false},
    {"smaug-bpe", PreTokenizer::Llama3, true, false, false},
    {"deepseek-llm", PreTokenizer::DeepseekLlm, false, false, false},
    {"deepseek-coder", PreTokenizer::DeepseekCoder, false, false, false},
    {"deepseek-v3", PreTokenizer::Deepseek3, false, false, false},
    {"gpt-2", PreTokenizer::Gpt2, true, false, false},
    {"phi-2", PreTokenizer::Gpt2, true, false, false},
    {"mpt", PreTokenizer::Gpt2, true, false, false},
    {"olmo", PreTokenizer::Gpt2, true, false, false},
    {"jais", PreTokenizer::Gpt2, true, false, false},
    {"starcoder", PreTokenizer::Starcoder, true, false, false},
    {"refact", PreTokenizer::Starcoder, true, false, false},
    {"command-r", PreTokenizer::Starcoder, false, false, false},
    {"smollm", PreTokenizer::Starcoder, false, false, false},
    {"qwen2", PreTokenizer::Qwen2, false, false, false},
    {"deepseek-r1-qwen", PreTokenizer::Qwen2, false, false, false},
    {"stablelm2", PreTokenizer::Qwen2, true, false, false},
    {"megrez", PreTokenizer::Qwen2, true, false, false},
    {"qwen35", PreTokenizer::Qwen35, false, false, false},
};

// Texts llama.cpp treats as end-of-turn, end-of-message and FIM markers whatever their
// stored type (they become control tokens).
const std::set<std::string_view> k_eot_texts = {
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "<\xEF\xBD\x9C"
    "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
    "<end_of_utterance>"};
// FIM prefix / suffix / middle markers (one of each is made a control token).
const std::set<std::string_view> k_fim_pre_texts = {"<|fim_prefix|>",
                                                    "<fim-prefix>",
                                                    "<fim_prefix>",
                                                    "<PRE>",
                                                    "\xE2\x96\x81<PRE>",
                                                    "<|code_prefix|>",
                                                    "<\xEF\xBD\x9C"
                                                    "fim\xE2\x96\x81"
                                                    "begin\xEF\xBD\x9C>"};
const std::set<std::string_view> k_fim_suf_texts = {"<|fim_suffix|>",
                                                    "<fim-suffix>",
                                                    "<fim_suffix>",
                                                    "<SUF>",
                                                    "\xE2\x96\x81<SUF>",
                                                    "<|code_suffix|>",
                                                    "<\xEF\xBD\x9C"
                                                    "fim\xE2\x96\x81hole\xEF\xBD\x9C>"};
const std::set<std::string_view> k_fim_mid_texts = {"<|fim_middle|>",
                                                    "<fim-middle>",
                                                    "<fim_middle>",
                                                    "<MID>",
                                                    "\xE2\x96\x81<MID>",
                                                    "<|code_middle|>",
                                                    "<\xEF\xBD\x9C"
                                                    "fim\xE2\x96\x81"
                                                    "end\xEF\xBD\x9C>"};
const std::set<std::string_view> k_fim_pad_texts = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>",
                                                    "<PAD>", "[PAD]"};
const std::set<std::string_view> k_fim_rep_texts = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
                                                    "<REPO>", "<reponame>"};
const std::set<std::string_view> k_fim_sep_texts = {"<|file_sep|>"};
const std::set<std::string_view> k_eog_texts = {
    "<|eot_id|>",      "<|im_end|>",        "<|end|>", "<|return|>", "<|call|>", "<end_of_turn>",
    "<|endoftext|>",   "<|eom_id|>",        "<EOT>",   "_<EOT>",     "[EOT]",    "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>"};

// The first id (lowest) whose text is in `texts`, marked control; -1 when none.
int32_t detect_by_text(Vocab& v, const std::set<std::string_view>& texts) {
    int32_t found = -1;
    for (const auto t : texts) {
        const auto id = v.find(t);
        if (id && (found < 0 || *id < found)) found = *id;
    }
    if (found >= 0) v.attr[size_t(found)] |= k_attr_control;
    return found;
}

std::string render_piece(const Vocab& v, int32_t id) {
    const std::string& t = v.text[size_t(id)];
    const uint32_t a = v.attr[size_t(id)];
    if (a & (k_attr_unknown | k_attr_control | k_attr_user_defined)) return t;
    if (a & k_attr_normal) {
        std::string out;
        if (v.type == VocabType::Spm) {
            // "▁" (U+2581) stands for a space in SentencePiece pieces.
            for (size_t k = 0; k < t.size();) {
                if (t.compare(k, 3, "\xE2\x96\x81") == 0) {
                    out += ' ';
                    k += 3;
                } else {
                    out += t[k++];
                }
            }
            return out;
        }
        for (size_t k = 0; k < t.size();) {
            const size_t n = utf8_sequence_length(t, k);
            const int b = n ? mapped_to_byte(utf8_decode_at(t, k, n)) : -1;
            if (b >= 0) {
                out += static_cast<char>(b);
            } else {
                // Not in the byte alphabet: llama.cpp writes a visible marker instead.
                const size_t len = n ? n : 1;
                out += "[UNK_BYTE_0x";
                for (size_t j = 0; j < len; ++j) {
                    char hex[4];
                    std::snprintf(hex, sizeof hex, "%02x",
                                  static_cast<unsigned>(static_cast<unsigned char>(t[k + j])));
                    out += hex;
                }
                out += t + "]";
            }
            k += n ? n : 1;
        }
        return out;
    }
    if (a & k_attr_byte) {  // "<0xE4>"
        const auto hex = [](char c) {
            return c >= '0' && c <= '9'   ? c - '0'
                   : c >= 'A' && c <= 'F' ? c - 'A' + 10
                   : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : -1;
        };
        if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && hex(t[3]) >= 0 &&
            hex(t[4]) >= 0)
            return std::string(1, static_cast<char>(hex(t[3]) * 16 + hex(t[4])));
        return t;  // a byte token not spelled <0xXX>: its text
    }
    return {};  // unused and undefined tokens render as nothing
}

}  // namespace

void set_pre_tokenizer(Vocab& v, const std::string& name) {
    v.pre_name = name.empty() ? "default" : name;
    for (const auto& e : k_pre_names) {
        if (v.pre_name != e.name) continue;
        v.pre = e.pre;
        v.clean_spaces = e.clean_spaces;
        v.ignore_merges = e.ignore_merges;
        if (e.add_bos) v.add_bos = true;
        return;
    }
    std::string known;
    for (const auto& e : k_pre_names) known += str_cat(known.empty() ? "" : ", ", e.name);
    fail(v.source, ": unsupported pre-tokenizer '", name, "' (supported: ", known, ")");
}

void finalize_vocab(Vocab& v) {
    const size_t n = v.size();
    require(n > 0, v.source, ": the vocabulary is empty");
    for (size_t id = 0; id < n; ++id)
        require(!v.text[id].empty(), v.source, ": token id ", id,
                " has no text (ids must be contiguous)");
    for (int32_t* id :
         {&v.bos, &v.eos, &v.eot, &v.eom, &v.unk, &v.pad, &v.fim_pad, &v.fim_rep, &v.fim_sep}) {
        if (*id >= int32_t(n)) {
            log_info(v.source, ": special token id ", *id, " is outside the vocabulary (", n,
                     " tokens); ignored");
            *id = -1;
        }
    }

    // End-of-generation tokens, as llama.cpp finds them: ids from the metadata plus tokens
    // recognised by their text (which are made control tokens).
    if (v.eot < 0) v.eot = detect_by_text(v, k_eot_texts);
    if (v.eom < 0) v.eom = detect_by_text(v, {"<|eom_id|>"});
    for (const auto* texts : {&k_fim_pre_texts, &k_fim_suf_texts, &k_fim_mid_texts})
        detect_by_text(v, *texts);
    if (v.fim_pad < 0) v.fim_pad = detect_by_text(v, k_fim_pad_texts);
    if (v.fim_rep < 0) v.fim_rep = detect_by_text(v, k_fim_rep_texts);
    if (v.fim_sep < 0) v.fim_sep = detect_by_text(v, k_fim_sep_texts);
    std::set<int32_t> eog;
    for (const int32_t id : {v.fim_pad, v.fim_rep, v.fim_sep, v.eos, v.eot, v.eom})
        if (id >= 0) eog.insert(id);
    for (const auto t : k_eog_texts) {
        if (const auto id = v.find(t)) {
            eog.insert(*id);
            v.attr[size_t(*id)] |= k_attr_control;
        }
    }
    // gpt-oss: these structure the channel syntax and are shown to the user.
    for (const char* t : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"})
        if (const auto id = v.find(t)) v.attr[size_t(*id)] = k_attr_user_defined;
    // gpt-oss again: with <|return|> and <|call|> present, <|end|> only ends a message.
    if (const auto end = v.find("<|end|>"); end && v.find("<|return|>") && v.find("<|call|>")) {
        eog.erase(*end);
        v.attr[size_t(*end)] = k_attr_user_defined;
    }
    for (size_t id = 0; id < n; ++id)
        if ((v.attr[id] & k_attr_control) && v.text[id].find("unused") != std::string::npos)
            v.attr[id] |= k_attr_unused;
    v.eog.assign(eog.begin(), eog.end());

    require(!v.add_bos || v.bos >= 0, v.source, ": the vocabulary adds a BOS token but names none");
    require(!v.add_eos || v.eos >= 0, v.source,
            ": the vocabulary adds an EOS token but names none");

    // Tokens split out of raw text before encoding: control, user-defined and unknown ones,
    // longest text first (ties by id). Texts that are not valid UTF-8 could only match in
    // the middle of a character and are left out.
    v.special.clear();
    for (size_t id = 0; id < n; ++id)
        if ((v.attr[id] & (k_attr_control | k_attr_user_defined | k_attr_unknown)) &&
            utf8_first_invalid(v.text[id]) == std::string_view::npos)
            v.special.push_back(int32_t(id));
    std::stable_sort(v.special.begin(), v.special.end(), [&](int32_t a, int32_t b) {
        return v.text[size_t(a)].size() > v.text[size_t(b)].size();
    });
    v.special_rank.assign(n, -1);
    v.matcher = SpecialMatcher{};
    for (size_t k = 0; k < v.special.size(); ++k) {
        v.special_rank[size_t(v.special[k])] = int32_t(k);
        v.matcher.insert(v.text[size_t(v.special[k])], v.special[k]);
    }

    // Byte fallback: SentencePiece's <0xXX> pieces (or the single byte), BPE's mapped bytes.
    for (int b = 0; b < 256; ++b) {
        std::optional<int32_t> id;
        if (v.type == VocabType::Spm) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "<0x%02X>", b);
            id = v.find(hex);
            if (!id) id = v.find(std::string(1, static_cast<char>(b)));
        } else {
            id = v.find(byte_to_mapped(static_cast<uint8_t>(b)));
        }
        v.byte_token[size_t(b)] = id.value_or(-1);
    }

    v.piece.resize(n);
    for (size_t id = 0; id < n; ++id) v.piece[id] = render_piece(v, int32_t(id));
}

}  // namespace pangolin
