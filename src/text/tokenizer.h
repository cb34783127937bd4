// Text ↔ token ids with llama.cpp's results: byte-level BPE (GPT-2, Llama 3, Qwen2/3/3.5,
// DeepSeek pre-tokenizers) and SentencePiece BPE with byte fallback (Llama 2, openPangu).
// Vocabularies come from GGUF metadata (tokenizer.ggml.*) or a Hugging Face folder
// (tokenizer.json, or tokenizer.model through libsentencepiece, plus tokenizer_config.json).
//
//   auto tok = load_tokenizer("model.gguf");
//   auto ids = tok->encode("Hello world", /*add_bos=*/true, /*parse_special=*/true);
//   std::string text = tok->decode(ids);
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pangolin {

class GgufFile;
class ModelSource;
class RegexSplitter;
struct Vocab;

class Tokenizer {
  public:
    // Takes a vocabulary as a loader filled it and derives the rest (vocab.h).
    explicit Tokenizer(Vocab&& vocab);
    ~Tokenizer();
    Tokenizer(const Tokenizer&) = delete;
    Tokenizer& operator=(const Tokenizer&) = delete;

    // Token ids of `text` (valid UTF-8, else Error). `add_bos` adds the tokens the
    // vocabulary asks for (BOS when add_bos_default(), EOS when it adds one), like llama.cpp's
    // add_special. `parse_special`: control tokens written in the text ("<|im_start|>")
    // become their ids; otherwise they are tokenized as text. User-defined (added,
    // non-special) tokens are always matched, as llama.cpp and Hugging Face do.
    std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;

    // Bytes of `ids` as llama.cpp's llama_detokenize gives them: SentencePiece vocabularies
    // drop the dummy-prefix space of the first token, and vocabularies whose pre-tokenizer
    // asks for it clean up " ," " ." " 's" …. `skip_special`: control and unknown tokens
    // render as nothing and a leading BOS / trailing EOS is dropped; otherwise control tokens
    // render as their text. The result can be invalid UTF-8 when the ids split a character.
    // Error for an id outside the vocabulary.
    std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;

    // Bytes of one token as generated text shows it (no space stripping, no clean-up);
    // control and unknown tokens render as their text when `special`, else as nothing.
    std::string token_to_piece(int32_t id, bool special = true) const;
    // The token's vocabulary text ("Ġworld", "▁world", "<|im_end|>").
    const std::string& token_text(int32_t id) const;
    std::optional<int32_t> find_token(std::string_view text) const;

    size_t n_vocab() const;
    int32_t bos() const;  // -1 when the vocabulary has none
    int32_t eos() const;
    const std::string& bos_text() const;  // "" when none
    const std::string& eos_text() const;
    bool is_eog(int32_t id) const;  // ends generation: EOS, EOT (<|im_end|>, <|eot_id|>), EOM …
    bool is_control(int32_t id) const;  // control or unknown: hidden by skip_special
    bool add_bos_default() const;
    // Jinja chat template (GGUF tokenizer.chat_template or tokenizer_config.json); "" if none.
    const std::string& chat_template() const;
    // One line for logs: "byte-level BPE, pre-tokenizer qwen2, 151936 tokens, 151387 merges".
    std::string describe() const;

    const Vocab& vocab() const { return *vocab_; }

  private:
    void check_id(int32_t id) const;
    std::unique_ptr<const Vocab> vocab_;
    std::unique_ptr<RegexSplitter> splitter_;  // byte-level BPE only
};

// Turns generated ids into text one token at a time without ever emitting part of a UTF-8
// character: bytes of a character still incomplete are held until a later token completes
// it. Bytes that can never form a character come out as U+FFFD, so every returned string is
// valid UTF-8. Concatenating push() results and flush() gives token_to_piece() of each id.
class StreamDecoder {
  public:
    explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = false)
        : tokenizer_(tokenizer), skip_special_(skip_special) {}
    std::string push(int32_t id);
    // Whatever is still held (an unfinished character becomes U+FFFD). Call at the end.
    std::string flush();

  private:
    const Tokenizer& tokenizer_;
    bool skip_special_;
    std::string pending_;
};

// The vocabulary of a model: the GGUF metadata, or the Hugging Face folder's tokenizer
// files. Throws Error when there is no usable vocabulary.
std::unique_ptr<Tokenizer> load_tokenizer(const ModelSource& source);
std::unique_ptr<Tokenizer> load_tokenizer(const GgufFile& gguf);
// `path`: a .gguf file (only its metadata is read) or a folder with tokenizer files (a
// config.json or weights are not needed).
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

}  // namespace pangolin
