// The tokenizer.* metadata of a GGUF, read from a Hugging Face folder the way llama.cpp's
// converter writes it (its own parsing, independent of Pangolin's tokenizers):
//   tokenizer.model (SentencePiece) → tokenizer.ggml.model "llama", tokens, scores,
//       token_type, add_space_prefix (the normalizer's add_dummy_prefix);
//   tokenizer.json (byte-level BPE) → "gpt2", tokens, token_type, merges, pre (recognized
//       from the pre-tokenizer's split pattern; "default" otherwise);
//   tokenizer_config.json → bos/eos/unk/pad ids (special token strings looked up in the
//       vocabulary; config.json's *_token_id otherwise), add_bos_token/add_eos_token, and
//       chat_template (or chat_template.jinja).
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace pangolin {

class GgufWriter;
class GgufFile;

// Sets the tokenizer keys from `folder`; returns false (and sets nothing) when the folder has
// neither tokenizer.model nor tokenizer.json. n_vocab: the model's vocabulary size (padded
// with "[PAD<id>]" unused tokens, as llama.cpp does, when the tokenizer has fewer).
bool set_hf_vocab(GgufWriter& writer, const std::string& folder, int64_t n_vocab,
                  const nlohmann::json& config);

// Copies every tokenizer.* key of `from` (--vocab-from); its token count must be n_vocab.
void copy_gguf_vocab(GgufWriter& writer, const GgufFile& from, int64_t n_vocab);

}  // namespace pangolin
