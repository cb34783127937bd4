#include "convert/hf_vocab.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "core/log.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"

namespace pangolin {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// llama.cpp's token types (tokenizer.ggml.token_type); SentencePiece numbers its piece types the
// same.
enum TokenType : int32_t {
    k_normal = 1,
    k_unknown = 2,
    k_control = 3,
    k_user_defined = 4,
    k_unused = 5,
    k_byte = 6
};

std::string read_file_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    require(bool(in), p.string(), ": cannot read the file");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

json read_json_file(const fs::path& p) {
    try {
        return json::parse(read_file_bytes(p));
    } catch (const json::exception& e) {
        fail(p.string(), ": not valid JSON: ", e.what());
    }
}

// Protocol Buffers wire format, just enough for SentencePiece's ModelProto.
class ProtoReader {
  public:
    ProtoReader(std::string_view data, const std::string& path)
        : p_(data.data()), end_(data.data() + data.size()), path_(path) {}
    bool done() const { return p_ >= end_; }
    uint64_t varint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            require(p_ < end_, path_, ": truncated SentencePiece model (varint)");
            const auto b = uint8_t(*p_++);
            v |= uint64_t(b & 0x7f) << shift;
            if (!(b & 0x80)) return v;
        }
        fail(path_, ": corrupt SentencePiece model (varint too long)");
    }
    // Reads a field key; returns its number and sets wire_type.
    uint32_t key(uint32_t& wire_type) {
        const uint64_t k = varint();
        wire_type = uint32_t(k & 7);
        return uint32_t(k >> 3);
    }
    std::string_view bytes() {
        const uint64_t n = varint();
        require(n <= uint64_t(end_ - p_), path_, ": truncated SentencePiece model (field of ", n,
                " bytes)");
        std::string_view s(p_, size_t(n));
        p_ += n;
        return s;
    }
    float fixed32_float() {
        require(end_ - p_ >= 4, path_, ": truncated SentencePiece model");
        float f;
        std::memcpy(&f, p_, 4);
        p_ += 4;
        return f;
    }
    void skip(uint32_t wire_type) {
        switch (wire_type) {
            case 0:
                varint();
                break;
            case 1:
                require(end_ - p_ >= 8, path_, ": truncated SentencePiece model");
                p_ += 8;
                break;
            case 2:
                bytes();
                break;
            case 5:
                require(end_ - p_ >= 4, path_, ": truncated SentencePiece model");
                p_ += 4;
                break;
            default:
                fail(path_, ": not a SentencePiece model (protobuf wire type ", wire_type, ")");
        }
    }

  private:
    const char* p_;
    const char* end_;
    const std::string& path_;
};

struct Vocab {
    std::vector<std::string> tokens;
    std::vector<float> scores;  // SentencePiece only
    std::vector<int32_t> types;
    std::vector<std::string> merges;  // BPE only
    std::string model, pre;
    std::optional<bool> add_space_prefix;
    std::map<std::string, int64_t> added;  // tokenizer.json added tokens: content → id
};

// tokenizer.model: ModelProto { repeated SentencePiece pieces = 1 { string piece = 1;
// float score = 2; Type type = 3 [default NORMAL] }; NormalizerSpec normalizer_spec = 3 {
// bool add_dummy_prefix = 3 [default true] } }
Vocab read_sentencepiece(const fs::path& path, int64_t n_vocab) {
    const std::string data = read_file_bytes(path);
    const std::string p = path.string();
    ProtoReader r(data, p);
    Vocab v;
    v.model = "llama";
    v.pre = "default";
    v.add_space_prefix = true;
    uint32_t wt;
    while (!r.done()) {
        const uint32_t field = r.key(wt);
        if (field == 1 && wt == 2) {
            ProtoReader piece(r.bytes(), p);
            std::string text;
            float score = 0;
            int type = k_normal;
            while (!piece.done()) {
                const uint32_t f = piece.key(wt);
                if (f == 1 && wt == 2)
                    text = std::string(piece.bytes());
                else if (f == 2 && wt == 5)
                    score = piece.fixed32_float();
                else if (f == 3 && wt == 0)
                    type = int(piece.varint());
                else
                    piece.skip(wt);
            }
            // llama.cpp's converter asks IsUnknown / IsControl / IsUnused / IsByte only:
            // user-defined pieces stay NORMAL
            v.tokens.push_back(std::move(text));
            v.scores.push_back(score);
            v.types.push_back(type == k_unknown || type == k_control || type == k_unused ||
                                      type == k_byte
                                  ? type
                                  : k_normal);
        } else if (field == 3 && wt == 2) {
            ProtoReader norm(r.bytes(), p);
            while (!norm.done()) {
                const uint32_t f = norm.key(wt);
                if (f == 3 && wt == 0)
                    v.add_space_prefix = norm.varint() != 0;
                else
                    norm.skip(wt);
            }
        } else {
            r.skip(wt);
        }
    }
    require(!v.tokens.empty(), p, ": no pieces (not a SentencePiece model?)");
    if (int64_t(v.tokens.size()) > n_vocab) {
        log_info("warning: ", p, " has ", v.tokens.size(), " pieces, more than the model's ",
                 n_vocab, " tokens; the extra ones are dropped");
        v.tokens.resize(size_t(n_vocab));
        v.scores.resize(size_t(n_vocab));
        v.types.resize(size_t(n_vocab));
    }
    for (int64_t i = int64_t(v.tokens.size()); i < n_vocab; ++i) {
        v.tokens.push_back("[PAD" + std::to_string(i) + "]");
        v.scores.push_back(-10000.0f);
        v.types.push_back(k_unused);
    }
    return v;
}

// Added tokens llama.cpp treats as control tokens even when not marked special.
bool looks_special(const std::string& t) {
    auto wrapped = [&](const char* a, const char* b) {
        return t.starts_with(a) && t.ends_with(b) && t.size() >= std::strlen(a) + std::strlen(b);
    };
    return t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]" ||
           wrapped("<|", "|>") || wrapped("<\xef\xbd\x9c", "\xef\xbd\x9c>") ||
           wrapped("<unused", ">");
}

// The split patterns of well-known byte-level BPE pre-tokenizers, by llama.cpp's names.
std::string recognize_pre(const json& pre_tokenizer) {
    std::string patterns;
    bool byte_level = false;
    auto visit = [&](auto&& self, const json& node) -> void {
        if (!node.is_object()) return;
        const std::string type = node.value("type", "");
        if (type == "Sequence" && node.contains("pretokenizers"))
            for (const auto& sub : node["pretokenizers"]) self(self, sub);
        if (type == "ByteLevel") byte_level = true;
        if (type == "Split" && node.contains("pattern") && node["pattern"].is_object())
            patterns += node["pattern"].value("Regex", "") + "\n";
    };
    visit(visit, pre_tokenizer);
    auto has = [&](const char* s) { return patterns.find(s) != std::string::npos; };
    if (has("[\xe4\xb8\x80-\xe9\xbe\xa5\xe3\x81\x80-\xe3\x82\x9f\xe3\x82\xa0-\xe3\x83\xbf]+"))
        return "deepseek-v3";
    if (has("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"))
        return "llama-bpe";
    if (has("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|")) return "qwen2";
    if (patterns.empty() && byte_level) return "gpt-2";
    return "";
}

Vocab read_bpe(const fs::path& path, int64_t n_vocab) {
    const json j = read_json_file(path);
    const std::string p = path.string();
    require(j.contains("model") && j["model"].is_object() && j["model"].value("type", "") == "BPE",
            p, ": only BPE tokenizer.json files are supported (model.type \"BPE\")");
    const json& model = j["model"];
    require(model.contains("vocab") && model["vocab"].is_object(), p, ": model.vocab is missing");
    Vocab v;
    v.model = "gpt2";
    std::map<int64_t, std::pair<std::string, int32_t>> by_id;
    for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
        require(it->is_number_integer(), p, ": vocab entry '", it.key(), "' has no integer id");
        by_id[it->get<int64_t>()] = {it.key(), k_normal};
    }
    if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
        for (const auto& a : j["added_tokens"]) {
            const int64_t id = a.value("id", int64_t(-1));
            const std::string content = a.value("content", "");
            if (id < 0) continue;
            v.added[content] = id;
            by_id[id] = {content, a.value("special", false) || looks_special(content)
                                      ? k_control
                                      : k_user_defined};
        }
    }
    for (int64_t i = 0; i < n_vocab; ++i) {
        auto it = by_id.find(i);
        if (it == by_id.end()) {
            v.tokens.push_back("[PAD" + std::to_string(i) + "]");
            v.types.push_back(k_unused);
        } else {
            v.tokens.push_back(it->second.first);
            v.types.push_back(it->second.second);
        }
    }
    if (!by_id.empty() && by_id.rbegin()->first >= n_vocab)
        log_info("warning: ", p, " has token ids up to ", by_id.rbegin()->first,
                 ", beyond the model's ", n_vocab, " tokens; they are dropped");
    if (model.contains("merges") && model["merges"].is_array()) {
        for (const auto& m : model["merges"]) {
            if (m.is_string())
                v.merges.push_back(m.get<std::string>());
            else if (m.is_array() && m.size() == 2)
                v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
        }
    }
    v.pre = j.contains("pre_tokenizer") ? recognize_pre(j["pre_tokenizer"]) : "";
    if (v.pre.empty()) {
        log_info("warning: ", p,
                 ": pre-tokenizer not recognized; writing tokenizer.ggml.pre = \"default\"");
        v.pre = "default";
    }
    return v;
}

std::optional<std::string> special_content(const json& tc, const std::string& key) {
    if (!tc.contains(key)) return std::nullopt;
    const json& e = tc[key];
    if (e.is_string()) return e.get<std::string>();
    if (e.is_object() && e.contains("content") && e["content"].is_string())
        return e["content"].get<std::string>();
    return std::nullopt;
}

}  // namespace

bool set_hf_vocab(GgufWriter& w, const std::string& folder, int64_t n_vocab,
                  const nlohmann::json& config) {
    const fs::path dir(folder);
    Vocab v;
    if (fs::exists(dir / "tokenizer.model"))
        v = read_sentencepiece(dir / "tokenizer.model", n_vocab);
    else if (fs::exists(dir / "tokenizer.json"))
        v = read_bpe(dir / "tokenizer.json", n_vocab);
    else
        return false;

    const json tc = fs::exists(dir / "tokenizer_config.json")
                        ? read_json_file(dir / "tokenizer_config.json")
                        : json::object();
    // added_tokens_decoder overrides tokens of a SentencePiece vocabulary (llama.cpp does the same)
    if (v.model == "llama" && tc.contains("added_tokens_decoder") &&
        tc["added_tokens_decoder"].is_object()) {
        for (auto it = tc["added_tokens_decoder"].begin(); it != tc["added_tokens_decoder"].end();
             ++it) {
            char* end = nullptr;
            const long long id = std::strtoll(it.key().c_str(), &end, 10);
            if (*end != '\0' || id < 0 || id >= n_vocab || !it->is_object() ||
                !(*it)["content"].is_string())
                continue;
            const std::string content = (*it)["content"].get<std::string>();
            v.tokens[size_t(id)] = content;
            v.scores[size_t(id)] = -1000.0f;
            v.types[size_t(id)] =
                it->value("special", false) || looks_special(content) ? k_control : k_user_defined;
        }
    }

    w.set_string("tokenizer.ggml.model", v.model);
    w.set_string("tokenizer.ggml.pre", v.pre);
    w.set_strings("tokenizer.ggml.tokens", v.tokens);
    if (!v.scores.empty()) w.set_f32s("tokenizer.ggml.scores", v.scores);
    w.set_i32s("tokenizer.ggml.token_type", v.types);
    if (!v.merges.empty()) w.set_strings("tokenizer.ggml.merges", v.merges);

    // special tokens: by content (tokenizer_config.json) among the added tokens or the
    // vocabulary, else by id (config.json)
    const std::pair<const char*, const char*> specials[] = {
        {"bos", "bos_token_id"},       {"eos", "eos_token_id"},     {"unk", "unknown_token_id"},
        {"sep", "seperator_token_id"}, {"pad", "padding_token_id"}, {"cls", "cls_token_id"},
        {"mask", "mask_token_id"},
    };
    for (const auto& [typ, gguf_key] : specials) {
        std::optional<int64_t> id;
        if (const auto content = special_content(tc, std::string(typ) + "_token")) {
            if (auto it = v.added.find(*content); it != v.added.end()) id = it->second;
            for (size_t i = 0; !id && i < v.tokens.size(); ++i)
                if (v.tokens[i] == *content) id = int64_t(i);
        }
        if (!id && config.contains(std::string(typ) + "_token_id")) {
            const json& c = config[std::string(typ) + "_token_id"];
            if (c.is_number_integer())
                id = c.get<int64_t>();
            else if (c.is_array() && !c.empty() && c[0].is_number_integer())
                id = c[0].get<int64_t>();
        }
        if (id && *id >= 0 && *id < n_vocab)
            w.set_u32(std::string("tokenizer.ggml.") + gguf_key, uint32_t(*id));
    }
    for (const char* flag : {"add_bos_token", "add_eos_token"})
        if (tc.contains(flag) && tc[flag].is_boolean())
            w.set_bool(std::string("tokenizer.ggml.") + flag, tc[flag].get<bool>());
    if (v.add_space_prefix) w.set_bool("tokenizer.ggml.add_space_prefix", *v.add_space_prefix);

    // chat template: tokenizer_config.json (a string, or named templates), else chat_template.jinja
    if (tc.contains("chat_template") && tc["chat_template"].is_string()) {
        w.set_string("tokenizer.chat_template", tc["chat_template"].get<std::string>());
    } else if (tc.contains("chat_template") && tc["chat_template"].is_array()) {
        std::vector<std::string> names;
        for (const auto& t : tc["chat_template"]) {
            const std::string name = t.value("name", ""), text = t.value("template", "");
            if (name.empty()) continue;
            if (name == "default")
                w.set_string("tokenizer.chat_template", text);
            else {
                names.push_back(name);
                w.set_string("tokenizer.chat_template." + name, text);
            }
        }
        if (!names.empty()) w.set_strings("tokenizer.chat_templates", names);
    } else if (fs::exists(dir / "chat_template.jinja")) {
        w.set_string("tokenizer.chat_template", read_file_bytes(dir / "chat_template.jinja"));
    }
    log_info("vocabulary: ", v.model == "llama" ? "SentencePiece" : "byte-level BPE", ", ",
             v.tokens.size(), " tokens");
    return true;
}

void copy_gguf_vocab(GgufWriter& w, const GgufFile& from, int64_t n_vocab) {
    const auto tokens = from.find("tokenizer.ggml.tokens");
    require(tokens != nullptr, from.path(), ": has no tokenizer.ggml.tokens to copy");
    require(int64_t(tokens->count) == n_vocab, from.path(), ": its vocabulary has ", tokens->count,
            " tokens, but the model has ", n_vocab);
    for (const auto& [key, value] : from.metadata())
        if (key.rfind("tokenizer.", 0) == 0) w.set_value(key, value);
}

}  // namespace pangolin
