#include "text/tokenizer.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "formats/gguf.h"
#include "formats/model_source.h"
#include "text/byte_level.h"
#include "text/encoders.h"
#include "text/pretokenize.h"
#include "text/utf8.h"
#include "text/vocab.h"

namespace pangolin {

namespace {

bool is_cleanup_punct(char c) {
    return c == '?' || c == '!' || c == '.' || c == ',';
}

// llama.cpp's decode clean-up (clean_spaces), three in-place passes over the bytes:
// " ?" " !" " ." " ," lose the space; " ' " loses both spaces; " 's" " 'm" " 're" " 've"
// lose the space. Each pass reads the buffer it is rewriting, as llama.cpp's does.
void clean_up_spaces(std::string& s) {
    if (s.size() < 2) return;
    size_t n = s.size(), w = 1;
    for (size_t i = 1; i < n; ++i) {
        const char x = s[i];
        if (s[i - 1] == ' ' && is_cleanup_punct(x)) --w;
        s[w++] = x;
    }
    n = w;
    w = 1;
    for (size_t i = 1; i < n; ++i) {
        const char x = s[i];
        if (x == '\'' && i + 1 < n && s[i - 1] == ' ' && s[i + 1] == ' ') {
            --w;         // the space before
            s[++i] = 0;  // the space after
        }
        s[w++] = x;
    }
    n = w;
    w = 1;
    for (size_t i = 1; i < n; ++i) {
        const char x = s[i];
        if (s[i - 1] == ' ' && x == '\'' && i + 1 < n) {
            const char x1 = s[i + 1];
            const char x2 = i + 2 < n ? s[i + 2] : 0;
            if (x1 == 's' || x1 == 'm' || (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) --w;
        }
        s[w++] = x;
    }
    s.resize(w);
}

}  // namespace

Tokenizer::Tokenizer(Vocab&& vocab) {
    if (vocab.piece.size() != vocab.size()) finalize_vocab(vocab);
    auto v = std::make_unique<Vocab>(std::move(vocab));
    if (v->type == VocabType::Bpe)
        splitter_ = std::make_unique<RegexSplitter>(pre_tokenizer_patterns(v->pre));
    vocab_ = std::move(v);
}

Tokenizer::~Tokenizer() = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos,
                                       bool parse_special) const {
    require_utf8(text, "the text to tokenize");
    const Vocab& v = *vocab_;
    std::vector<int32_t> out;
    std::vector<Fragment> fragments;
    split_special(v, text, parse_special, fragments);
    if (add_bos && v.add_bos) out.push_back(v.bos);

    if (v.type == VocabType::Spm) {
        // Each raw fragment is encoded on its own, with the dummy-prefix space when it opens
        // the text or follows a special token (llama.cpp).
        bool after_special = true;
        std::string escaped;
        for (const Fragment& f : fragments) {
            if (f.token >= 0) {
                out.push_back(f.token);
                after_special = true;
                continue;
            }
            escaped.clear();
            if (v.add_space_prefix && after_special) escaped += "\xE2\x96\x81";
            for (const char c : text.substr(f.begin, f.end - f.begin)) {
                if (c == ' ')
                    escaped += "\xE2\x96\x81";
                else
                    escaped += c;
            }
            spm_encode(v, escaped, out);
            after_special = false;
        }
    } else {
        std::vector<std::string_view> words;
        std::string mapped;
        for (const Fragment& f : fragments) {
            if (f.token >= 0) {
                out.push_back(f.token);
                continue;
            }
            splitter_->split(text.substr(f.begin, f.end - f.begin), words);
            for (const std::string_view w : words) {
                mapped.clear();
                append_byte_mapped(mapped, w);
                bpe_encode(v, mapped, out);
            }
        }
    }
    if (add_bos && v.add_eos) out.push_back(v.eos);
    return out;
}

void Tokenizer::check_id(int32_t id) const {
    require(vocab_->has(id), "token id ", id, " is outside the vocabulary (", vocab_->size(),
            " tokens)");
}

std::string Tokenizer::token_to_piece(int32_t id, bool special) const {
    check_id(id);
    if (!special && is_control(id)) return {};
    return vocab_->piece[size_t(id)];
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
    const Vocab& v = *vocab_;
    auto begin = ids.begin(), end = ids.end();
    bool strip_space = v.add_space_prefix;  // the dummy prefix of the first token
    if (skip_special && v.add_bos && begin != end && *begin == v.bos) {
        strip_space = false;  // as llama.cpp: a text after BOS keeps its space
        ++begin;
    }
    if (skip_special && v.add_eos && begin != end && *(end - 1) == v.eos) --end;
    std::string out;
    for (auto it = begin; it != end; ++it) {
        check_id(*it);
        std::string_view piece =
            (skip_special && is_control(*it)) ? std::string_view() : v.piece[size_t(*it)];
        if (strip_space && !piece.empty() && piece[0] == ' ') piece.remove_prefix(1);
        strip_space = false;
        out += piece;
    }
    if (v.clean_spaces) clean_up_spaces(out);
    return out;
}

const std::string& Tokenizer::token_text(int32_t id) const {
    check_id(id);
    return vocab_->text[size_t(id)];
}

std::optional<int32_t> Tokenizer::find_token(std::string_view text) const {
    return vocab_->find(text);
}
size_t Tokenizer::n_vocab() const {
    return vocab_->size();
}
int32_t Tokenizer::bos() const {
    return vocab_->bos;
}
int32_t Tokenizer::eos() const {
    return vocab_->eos;
}

const std::string& Tokenizer::bos_text() const {
    static const std::string none;
    return vocab_->bos >= 0 ? vocab_->text[size_t(vocab_->bos)] : none;
}

const std::string& Tokenizer::eos_text() const {
    static const std::string none;
    return vocab_->eos >= 0 ? vocab_->text[size_t(vocab_->eos)] : none;
}

bool Tokenizer::is_eog(int32_t id) const {
    return std::binary_search(vocab_->eog.begin(), vocab_->eog.end(), id);
}

bool Tokenizer::is_control(int32_t id) const {
    return vocab_->has(id) && (vocab_->attr[size_t(id)] & (k_attr_control | k_attr_unknown));
}

bool Tokenizer::add_bos_default() const {
    return vocab_->add_bos;
}
const std::string& Tokenizer::chat_template() const {
    return vocab_->chat_template;
}

std::string Tokenizer::describe() const {
    const Vocab& v = *vocab_;
    if (v.type == VocabType::Spm)
        return str_cat("SentencePiece BPE, ", v.size(), " tokens",
                       v.add_space_prefix ? ", dummy prefix" : "");
    return str_cat("byte-level BPE, pre-tokenizer ", v.pre_name, ", ", v.size(), " tokens, ",
                   v.merges.size(), " merges");
}

std::string StreamDecoder::push(int32_t id) {
    pending_ += tokenizer_.token_to_piece(id, !skip_special_);
    const size_t ready = pending_.size() - utf8_incomplete_tail(pending_);
    std::string out = utf8_replace_invalid(std::string_view(pending_).substr(0, ready));
    pending_.erase(0, ready);
    return out;
}

std::string StreamDecoder::flush() {
    std::string out = utf8_replace_invalid(pending_);
    pending_.clear();
    return out;
}

std::unique_ptr<Tokenizer> load_tokenizer(const GgufFile& gguf) {
    return std::make_unique<Tokenizer>(vocab_from_gguf(gguf));
}

std::unique_ptr<Tokenizer> load_tokenizer(const ModelSource& source) {
    if (source.gguf()) return load_tokenizer(*source.gguf());
    return std::make_unique<Tokenizer>(vocab_from_hf_folder(source.path()));
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
    require(std::filesystem::exists(path), path, ": no such file or folder");
    if (std::filesystem::is_directory(path))
        return std::make_unique<Tokenizer>(vocab_from_hf_folder(path));
    const GgufFile gguf(path);
    return load_tokenizer(gguf);
}

}  // namespace pangolin
