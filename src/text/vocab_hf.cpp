// Vocabulary from a Hugging Face folder: tokenizer.json (byte-level BPE) or tokenizer.model
// (SentencePiece), completed by tokenizer_config.json (bos/eos, add_bos_token, chat
// template, added_tokens_decoder) and config.json (vocab_size, token ids) the way llama.cpp's
// converter builds a GGUF vocabulary from them.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "core/mapped_file.h"
#include "text/pretokenize.h"
#include "text/vocab.h"

namespace pangolin {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::optional<json> read_json_file(const fs::path& p) {
    if (!fs::exists(p)) return std::nullopt;
    std::ifstream in(p, std::ios::binary);
    require(in.good(), p.string(), ": cannot be read");
    try {
        return json::parse(in);
    } catch (const json::exception& e) {
        fail(p.string(), ": not valid JSON: ", e.what());
    }
}

bool bool_field(const json& obj, const char* key, bool fallback, const std::string& where) {
    if (!obj.contains(key) || obj[key].is_null()) return fallback;
    require(obj[key].is_boolean(), where, ": '", key, "' must be true or false");
    return obj[key].get<bool>();
}

int32_t id_field(const json& j, const std::string& where) {
    require(j.is_number_integer() && j.get<int64_t>() >= 0 && j.get<int64_t>() <= INT32_MAX, where,
            " must be a non-negative integer token id");
    return int32_t(j.get<int64_t>());
}

// A token given as "text" or as {"content": "text", ...}.
std::optional<std::string> token_content(const json& j) {
    if (j.is_string()) return j.get<std::string>();
    if (j.is_object() && j.contains("content") && j["content"].is_string())
        return j["content"].get<std::string>();
    return std::nullopt;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// llama.cpp's converter makes these control tokens even when not flagged special.
bool looks_special(std::string_view t) {
    if (t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]") return true;
    if (t.substr(0, 2) == "<|" && ends_with(t, "|>")) return true;
    if (t.substr(0, 4) == "<\xEF\xBD\x9C" && ends_with(t, "\xEF\xBD\x9C>")) return true;  // <｜…｜>
    return t.substr(0, 7) == "<unused" && ends_with(t, ">");
}

uint32_t added_token_attr(const json& t, const std::string& content, const std::string& where) {
    uint32_t a = bool_field(t, "special", false, where) || looks_special(content)
                     ? k_attr_control
                     : k_attr_user_defined;
    if (bool_field(t, "lstrip", false, where)) a |= k_attr_lstrip;
    if (bool_field(t, "rstrip", false, where)) a |= k_attr_rstrip;
    return a;
}

std::string normalize_contractions(std::string re) {
    const std::string hf = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
    const std::string spelled = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
    for (size_t at = re.find(hf); at != std::string::npos; at = re.find(hf, at + spelled.size()))
        re.replace(at, hf.size(), spelled);
    return re;
}

// Whether a pre_tokenizer / decoder object, or one in its Sequence, has type `type`.
bool has_step(const json& node, const char* type) {
    if (!node.is_object()) return false;
    if (node.value("type", "") == type) return true;
    for (const char* list : {"pretokenizers", "decoders"})
        if (node.contains(list) && node[list].is_array())
            for (const auto& s : node[list])
                if (has_step(s, type)) return true;
    return false;
}

// The GGUF pre-tokenizer name whose regexes the tokenizer.json pre_tokenizer uses.
std::string pre_tokenizer_name(const json& pre, const std::string& path) {
    require(pre.is_object(), path,
            ": 'pre_tokenizer' must be an object (byte-level BPE needs one)");
    std::vector<const json*> steps;
    if (pre.value("type", "") == "Sequence") {
        require(pre.contains("pretokenizers") && pre["pretokenizers"].is_array(), path,
                ": pre_tokenizer Sequence needs a 'pretokenizers' list");
        for (const auto& s : pre["pretokenizers"]) steps.push_back(&s);
    } else {
        steps.push_back(&pre);
    }
    std::vector<std::string> splits;
    bool byte_level = false, byte_level_regex = false;
    for (const json* s : steps) {
        require(s->is_object() && (*s).contains("type") && (*s)["type"].is_string(), path,
                ": every pre_tokenizer step needs a 'type'");
        const std::string type = (*s)["type"].get<std::string>();
        if (type == "Split") {
            const json& p = s->value("pattern", json());
            const auto re = p.is_object() && p.contains("Regex") && p["Regex"].is_string()
                                ? p["Regex"].get<std::string>()
                                : "";
            require(!re.empty(), path, ": pre_tokenizer Split needs a pattern {\"Regex\": ...}");
            splits.push_back(normalize_contractions(re));
        } else if (type == "ByteLevel") {
            byte_level = true;
            byte_level_regex = bool_field(*s, "use_regex", true, path + ": ByteLevel");
        } else if (type == "Digits") {
            splits.push_back(bool_field(*s, "individual_digits", false, path + ": Digits")
                                 ? R"(\p{N})"
                                 : R"(\p{N}+)");
        } else {
            fail(path, ": pre_tokenizer step '", type,
                 "' is not supported (byte-level BPE pre-tokenizers only)");
        }
    }
    require(byte_level, path,
            ": the pre_tokenizer has no ByteLevel step; only byte-level BPE tokenizer.json is "
            "supported");
    const auto same = [&](PreTokenizer p) {
        return splits.size() == 1 && splits[0] == pre_tokenizer_patterns(p)[0];
    };
    if (splits.empty() && byte_level_regex) return "gpt-2";
    if (same(PreTokenizer::Llama3)) return "llama-bpe";
    if (same(PreTokenizer::Qwen2)) return "qwen2";
    if (same(PreTokenizer::Qwen35)) return "qwen35";
    if (splits.size() >= 2 && (splits[0] == "[\r\n]" || splits[0] == R"([\r\n])")) {
        if (splits[1] == R"(\s?\p{L}+)") return "deepseek-coder";
        if (splits[1].rfind(R"(\s?[A-Za-zµ)", 0) == 0) return "deepseek-llm";
    }
    if (splits.size() == 3 && splits[0] == R"(\p{N}{1,3})") return "deepseek-v3";
    std::string list;
    for (const auto& s : splits) list += "\n  " + s;
    fail(path,
         ": unrecognised pre-tokenizer regexes (supported: GPT-2, Llama 3, Qwen2, Qwen3.5, "
         "DeepSeek LLM/Coder/V3):",
         list.empty() ? std::string(" (none)") : list);
}

// First and last special tokens of a TemplateProcessing "single" template: what
// tokenizer.encode adds around a text.
void template_bos_eos(const json& post, std::optional<std::string>& first,
                      std::optional<std::string>& last) {
    if (!post.is_object()) return;
    if (post.value("type", "") == "Sequence" && post.contains("processors") &&
        post["processors"].is_array()) {
        for (const auto& p : post["processors"]) template_bos_eos(p, first, last);
        return;
    }
    if (post.value("type", "") != "TemplateProcessing" || !post.contains("single") ||
        !post["single"].is_array())
        return;
    const json& single = post["single"];
    const auto special_id = [](const json& item) -> std::optional<std::string> {
        if (item.is_object() && item.contains("SpecialToken") && item["SpecialToken"].is_object() &&
            item["SpecialToken"].contains("id") && item["SpecialToken"]["id"].is_string())
            return item["SpecialToken"]["id"].get<std::string>();
        return std::nullopt;
    };
    if (!single.empty()) {
        first = special_id(single.front());
        if (single.size() > 1) last = special_id(single.back());
    }
}

void load_tokenizer_json(Vocab& v, const json& tj, const std::string& path) {
    require(tj.is_object(), path, ": must hold a JSON object");
    require(tj.contains("model") && tj["model"].is_object(), path, ": missing the 'model' object");
    const json& model = tj["model"];
    const std::string type = model.contains("type") && model["type"].is_string()
                                 ? model["type"].get<std::string>()
                                 : "BPE";
    require(type == "BPE", path, ": model type '", type,
            "' is not supported (byte-level BPE only)");
    require(model.contains("vocab") && model["vocab"].is_object(), path,
            ": model.vocab must be an object {token: id}");
    v.type = VocabType::Bpe;
    set_pre_tokenizer(v, pre_tokenizer_name(tj.value("pre_tokenizer", json()), path));

    const json& vocab = model["vocab"];
    v.index.reserve(vocab.size());
    for (auto it = vocab.begin(); it != vocab.end(); ++it)
        set_token(v, id_field(it.value(), path + ": model.vocab['" + it.key() + "']"), it.key(),
                  0.0f, k_attr_normal);
    if (tj.contains("added_tokens") && !tj["added_tokens"].is_null()) {
        require(tj["added_tokens"].is_array(), path, ": 'added_tokens' must be a list");
        for (const auto& t : tj["added_tokens"]) {
            const auto content = token_content(t);
            require(content.has_value() && t.contains("id"), path,
                    ": every added token needs 'id' and 'content'");
            set_token(v, id_field(t["id"], path + ": added token id"), *content, 0.0f,
                      added_token_attr(t, *content, path));
        }
    }

    require(model.contains("merges") && model["merges"].is_array(), path,
            ": model.merges is missing; a byte-level BPE vocabulary needs its merges");
    const json& merges = model["merges"];
    v.merges.reserve(merges.size());
    size_t unusable = 0;
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const json& m = merges[rank];
        bool ok = false;
        if (m.is_string()) {  // "left right"
            const auto& s = m.get_ref<const std::string&>();
            const size_t space = s.find(' ', 1);
            ok = space != std::string::npos &&
                 add_merge(v, std::string_view(s).substr(0, space),
                           std::string_view(s).substr(space + 1), int32_t(rank));
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() &&
                   m[1].is_string()) {  // ["left", "right"]
            ok = add_merge(v, m[0].get_ref<const std::string&>(),
                           m[1].get_ref<const std::string&>(), int32_t(rank));
        } else {
            fail(path, ": model.merges[", rank,
                 "] must be \"left right\" or [\"left\", \"right\"]");
        }
        if (!ok) ++unusable;
    }
    if (unusable)
        log_debug(path, ": ", unusable, " merges name tokens outside the vocabulary; skipped");
    v.ignore_merges = bool_field(model, "ignore_merges", v.ignore_merges, path + ": model");

    std::optional<std::string> first, last;
    template_bos_eos(tj.value("post_processor", json()), first, last);
    if (first) {
        v.add_bos = true;
        if (const auto id = v.find(*first)) v.bos = *id;
    }
    if (last) {
        v.add_eos = true;
        if (const auto id = v.find(*last)) v.eos = *id;
    }
}

std::optional<int32_t> config_token_id(const json& config, const char* key,
                                       const std::string& path) {
    if (!config.contains(key) || config[key].is_null()) return std::nullopt;
    const json& j = config[key];
    if (j.is_array())
        return j.empty() ? std::nullopt : std::optional(id_field(j[0], path + ": " + key));
    return id_field(j, path + ": " + key);
}

void apply_tokenizer_config(Vocab& v, const json& tc, const std::string& path) {
    require(tc.is_object(), path, ": must hold a JSON object");
    // added_tokens_decoder: {"<id>": {"content": ..., "special": ...}}, as the converter applies
    // it.
    if (tc.contains("added_tokens_decoder") && tc["added_tokens_decoder"].is_object()) {
        for (auto it = tc["added_tokens_decoder"].begin(); it != tc["added_tokens_decoder"].end();
             ++it) {
            int64_t id = -1;
            try {
                id = std::stoll(it.key());
            } catch (const std::exception&) {
            }
            const auto content = token_content(it.value());
            require(id >= 0 && id <= INT32_MAX && content.has_value(), path,
                    ": added_tokens_decoder['", it.key(), "'] needs an integer id and a 'content'");
            if (size_t(id) >=
                v.size()) {  // beyond config.json's vocab_size: the converter drops it
                log_info(path, ": added token id ", id, " is outside the vocabulary; ignored");
                continue;
            }
            const float score = v.type == VocabType::Spm ? -1000.0f : v.score[size_t(id)];
            set_token(v, int32_t(id), *content, score,
                      added_token_attr(it.value(), *content, path));
        }
    }
    for (const auto& [key, id] : {std::pair<const char*, int32_t*>{"bos_token", &v.bos},
                                  {"eos_token", &v.eos},
                                  {"unk_token", &v.unk},
                                  {"pad_token", &v.pad}}) {
        if (!tc.contains(key)) continue;
        if (const auto content = token_content(tc[key])) {
            if (const auto found = v.find(*content)) *id = *found;
        }
    }
    if (tc.contains("add_bos_token") && !tc["add_bos_token"].is_null())
        v.add_bos = bool_field(tc, "add_bos_token", false, path);
    if (tc.contains("add_eos_token") && !tc["add_eos_token"].is_null())
        v.add_eos = bool_field(tc, "add_eos_token", false, path);

    // chat_template: a string, or a list of {"name", "template"} (the "default" one wins).
    if (tc.contains("chat_template")) {
        const json& ct = tc["chat_template"];
        if (ct.is_string()) {
            v.chat_template = ct.get<std::string>();
        } else if (ct.is_array()) {
            for (const auto& t : ct) {
                if (!t.is_object() || !t.contains("template") || !t["template"].is_string())
                    continue;
                if (v.chat_template.empty() || t.value("name", "") == "default")
                    v.chat_template = t["template"].get<std::string>();
            }
        }
    }
}

Vocab read_hf_folder(const std::string& folder) {
    const fs::path dir(folder);
    Vocab v;
    v.source = folder;
    const auto config = read_json_file(dir / "config.json");
    const auto tokenizer_json_path = dir / "tokenizer.json";
    const auto spm_path = dir / "tokenizer.model";
    const auto tokenizer_json = read_json_file(tokenizer_json_path);

    // tokenizer.json when it holds a byte-level BPE; SentencePiece models (whose tokenizer.json
    // is a "▁"-normalizing BPE) are read from tokenizer.model.
    const bool json_is_byte_level =
        tokenizer_json && tokenizer_json->is_object() &&
        (has_step(tokenizer_json->value("pre_tokenizer", json()), "ByteLevel") ||
         has_step(tokenizer_json->value("decoder", json()), "ByteLevel"));
    if (tokenizer_json && (json_is_byte_level || !fs::exists(spm_path))) {
        load_tokenizer_json(v, *tokenizer_json, tokenizer_json_path.string());
    } else if (fs::exists(spm_path)) {
        load_sentencepiece_model(v, spm_path.string());
    } else {
        fail(folder, ": no tokenizer.json or tokenizer.model (the folder has no vocabulary)");
    }

    // Ids up to config.json's vocab_size that no token claims: padding, as the converter adds.
    int64_t n_vocab = int64_t(v.size());
    if (config && config->is_object() && config->contains("vocab_size") &&
        (*config)["vocab_size"].is_number_integer()) {
        const int64_t configured = (*config)["vocab_size"].get<int64_t>();
        require(configured <= n_vocab + (1 << 20), (dir / "config.json").string(), ": vocab_size ",
                configured, " is far beyond the tokenizer's ", n_vocab, " tokens");
        n_vocab = std::max(n_vocab, configured);
    }
    if (const auto added = read_json_file(dir / "added_tokens.json");
        added && v.type == VocabType::Spm) {
        require(added->is_object(), (dir / "added_tokens.json").string(),
                ": must map token text to id");
        for (auto it = added->begin(); it != added->end(); ++it) {
            const int32_t id =
                id_field(it.value(), (dir / "added_tokens.json").string() + ": '" + it.key() + "'");
            if (size_t(id) >= v.size() || v.text[size_t(id)].empty())
                set_token(v, id, it.key(), -1000.0f, k_attr_user_defined);
        }
    }
    n_vocab = std::max(n_vocab, int64_t(v.size()));
    for (int64_t id = 0; id < n_vocab; ++id)
        if (size_t(id) >= v.size() || v.text[size_t(id)].empty())
            set_token(v, int32_t(id), str_cat("[PAD", id, "]"), -1000.0f, k_attr_unused);

    if (config && config->is_object()) {
        const std::string config_path = (dir / "config.json").string();
        if (const auto id = config_token_id(*config, "bos_token_id", config_path); id && v.bos < 0)
            v.bos = *id;
        if (const auto id = config_token_id(*config, "eos_token_id", config_path); id && v.eos < 0)
            v.eos = *id;
    }
    if (const auto tc = read_json_file(dir / "tokenizer_config.json"))
        apply_tokenizer_config(v, *tc, (dir / "tokenizer_config.json").string());
    if (v.chat_template.empty() && fs::exists(dir / "chat_template.jinja")) {
        const MappedFile file((dir / "chat_template.jinja").string());
        v.chat_template.assign(reinterpret_cast<const char*>(file.data()), file.size());
    }
    if (v.chat_template.empty()) {
        if (const auto ct = read_json_file(dir / "chat_template.json");
            ct && ct->is_object() && ct->contains("chat_template") &&
            (*ct)["chat_template"].is_string())
            v.chat_template = (*ct)["chat_template"].get<std::string>();
    }
    finalize_vocab(v);
    return v;
}

}  // namespace

Vocab vocab_from_hf_folder(const std::string& folder) {
    require(fs::is_directory(folder), folder, ": not a folder");
    try {
        return read_hf_folder(folder);
    } catch (const json::exception& e) {  // a value of the wrong JSON type somewhere
        fail(folder, ": malformed tokenizer files: ", e.what());
    }
}

}  // namespace pangolin
