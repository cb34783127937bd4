// Vocabulary from GGUF metadata (tokenizer.ggml.*), with llama.cpp's defaults for what a
// file leaves out.
#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "core/log.h"
#include "formats/gguf.h"
#include "text/vocab.h"

namespace pangolin {

namespace {

const std::vector<std::string>& string_array(const GgufFile& g, const std::string& key) {
    const GgufValue* v = g.find(key);
    require(v != nullptr, g.path(), ": metadata key '", key, "' is missing");
    require(v->type == GgufType::Array && v->elem_type == GgufType::String, g.path(),
            ": metadata key '", key, "' should be an array of strings");
    return v->strings;
}

void read_special_id(const GgufFile& g, const std::string& key, int32_t& id) {
    const auto value = g.get_int("tokenizer.ggml." + key);
    if (!value) return;
    if (*value < 0 || *value > INT32_MAX) {
        log_info(g.path(), ": tokenizer.ggml.", key, " = ", *value, " is not a token id; ignored");
        return;
    }
    id = int32_t(*value);
}

}  // namespace

Vocab vocab_from_gguf(const GgufFile& g) {
    Vocab v;
    v.source = g.path();
    const auto model = g.get_string("tokenizer.ggml.model");
    require(model.has_value(), g.path(), ": no vocabulary (tokenizer.ggml.model is missing)");
    if (*model == "gpt2") {
        v.type = VocabType::Bpe;
        v.clean_spaces = true;
        require(g.find("tokenizer.ggml.merges") != nullptr, g.path(),
                ": tokenizer.ggml.merges is missing; a byte-level BPE ('gpt2') vocabulary needs "
                "its merges");
        set_pre_tokenizer(v, g.get_string("tokenizer.ggml.pre").value_or("default"));
    } else if (*model == "llama") {
        v.type = VocabType::Spm;
        v.pre_name = "sentencepiece";
        v.add_space_prefix = true;
        v.add_bos = true;
        v.bos = 1;
        v.eos = 2;
        v.unk = 0;
    } else if (*model == "no_vocab" || *model == "none") {
        fail(g.path(), ": the file has no vocabulary (tokenizer.ggml.model = '", *model, "')");
    } else {
        fail(g.path(), ": unsupported tokenizer model '", *model,
             "' (supported: 'gpt2' byte-level BPE, 'llama' SentencePiece)");
    }

    const auto& tokens = string_array(g, "tokenizer.ggml.tokens");
    require(!tokens.empty(), g.path(), ": tokenizer.ggml.tokens is empty");
    const auto scores = g.get_floats("tokenizer.ggml.scores");
    const auto types = g.get_ints("tokenizer.ggml.token_type");
    require(scores.empty() || scores.size() >= tokens.size(), g.path(),
            ": tokenizer.ggml.scores has ", scores.size(), " entries for ", tokens.size(),
            " tokens");
    require(types.empty() || types.size() >= tokens.size(), g.path(),
            ": tokenizer.ggml.token_type has ", types.size(), " entries for ", tokens.size(),
            " tokens");
    v.text.reserve(tokens.size());
    v.index.reserve(tokens.size());
    for (size_t id = 0; id < tokens.size(); ++id)
        set_token(v, int32_t(id), tokens[id], scores.empty() ? 0.0f : scores[id],
                  types.empty() ? k_attr_normal : token_type_to_attr(types[id]));

    if (v.type == VocabType::Bpe) {
        const auto& merges = string_array(g, "tokenizer.ggml.merges");
        v.merges.reserve(merges.size());
        size_t unusable = 0;
        for (size_t rank = 0; rank < merges.size(); ++rank) {
            const std::string& m = merges[rank];
            const size_t space = m.find(' ', 1);  // a token never holds a raw space
            if (space == std::string::npos ||
                !add_merge(v, std::string_view(m).substr(0, space),
                           std::string_view(m).substr(space + 1), int32_t(rank)))
                ++unusable;
        }
        if (unusable)
            log_debug(g.path(), ": ", unusable,
                      " merges name tokens outside the vocabulary; skipped");
    }

    if (const auto b = g.get_bool("tokenizer.ggml.add_space_prefix")) v.add_space_prefix = *b;
    read_special_id(g, "bos_token_id", v.bos);
    read_special_id(g, "eos_token_id", v.eos);
    read_special_id(g, "eot_token_id", v.eot);
    read_special_id(g, "eom_token_id", v.eom);
    read_special_id(g, "unknown_token_id", v.unk);
    read_special_id(g, "padding_token_id", v.pad);
    read_special_id(g, "fim_pad_token_id", v.fim_pad);
    read_special_id(g, "fim_rep_token_id", v.fim_rep);
    read_special_id(g, "fim_sep_token_id", v.fim_sep);
    if (const auto b = g.get_bool("tokenizer.ggml.add_bos_token")) v.add_bos = *b;
    if (const auto b = g.get_bool("tokenizer.ggml.add_eos_token")) v.add_eos = *b;
    v.chat_template = g.get_string("tokenizer.chat_template").value_or("");

    finalize_vocab(v);

    // GGUF has no per-token strip flags; llama.cpp sets Phi-3's by model name: its special
    // tokens swallow the whitespace after them.
    std::string name = g.get_string("general.name").value_or("");
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
        for (const int32_t id : v.special) v.attr[size_t(id)] |= k_attr_rstrip;
        if (const auto id = v.find("</s>")) v.attr[size_t(*id)] |= k_attr_rstrip;
        for (const char* t : {"<unk>", "<s>", "<|endoftext|>"})
            if (const auto id = v.find(t)) v.attr[size_t(*id)] &= ~uint32_t(k_attr_rstrip);
    }
    return v;
}

}  // namespace pangolin
