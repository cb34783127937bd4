#include "text/pretokenize.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/error.h"
#include "text/utf8.h"

namespace pangolin {

namespace {

// Contractions spelled out case by case instead of (?i:...), as llama.cpp adapts them.
#define PANGOLIN_CONTRACTIONS R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]))"

const std::string k_gpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const std::string k_llama3 = PANGOLIN_CONTRACTIONS
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string k_qwen2 = PANGOLIN_CONTRACTIONS
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
// Qwen3.5 keeps combining marks (\p{M}) inside words.
const std::string k_qwen35 = PANGOLIN_CONTRACTIONS
    R"(|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
#undef PANGOLIN_CONTRACTIONS

// CJK unified ideographs (up to U+9FA5), U+0800..U+4E00, Hangul syllables and jamo.
const std::string k_deepseek_cjk = R"([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)";
// DeepSeek LLM's cased letters (Lu/Ll/Lt ranges) with an optional leading space.
const std::string k_deepseek_letters =
    R"(\s?[)"
    R"(A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF})"
    R"(\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D})"
    R"(\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5})"
    R"(\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5})"
    R"(\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B})"
    R"(\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D})"
    R"(\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D})"
    R"(\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4})"
    R"(\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC})"
    R"(\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115})"
    R"(\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134})"
    R"(\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184})"
    R"(\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3})"
    R"(\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787})"
    R"(\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17})"
    R"(\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3})"
    R"(\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF})"
    R"(\x{1E900}-\x{1E943})"
    R"(]+)";
// ASCII and full-width punctuation, curly quotes, ideographic space and full stop.
const std::string k_deepseek_punct =
    R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)";

}  // namespace

const std::vector<std::string>& pre_tokenizer_patterns(PreTokenizer pre) {
    static const std::vector<std::string> gpt2 = {k_gpt2};
    static const std::vector<std::string> llama3 = {k_llama3};
    static const std::vector<std::string> qwen2 = {k_qwen2};
    static const std::vector<std::string> qwen35 = {k_qwen35};
    static const std::vector<std::string> deepseek_llm = {
        "[\r\n]", k_deepseek_letters, k_deepseek_punct, R"(\s+$)", k_deepseek_cjk, R"(\p{N}+)"};
    static const std::vector<std::string> deepseek_coder = {
        "[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", k_deepseek_cjk, R"(\p{N})"};
    static const std::vector<std::string> deepseek3 = {
        R"(\p{N}{1,3})", R"([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)",
        R"re([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re"};
    static const std::vector<std::string> starcoder = {R"(\p{N})", k_gpt2};
    static const std::vector<std::string> fallback = {R"([\p{P}\$\+<=>\^~\|]+)", k_gpt2,
                                                      R"(\p{N}+)", "[0-9][0-9][0-9]"};
    switch (pre) {
        case PreTokenizer::Gpt2:
            return gpt2;
        case PreTokenizer::Llama3:
            return llama3;
        case PreTokenizer::Qwen2:
            return qwen2;
        case PreTokenizer::Qwen35:
            return qwen35;
        case PreTokenizer::DeepseekLlm:
            return deepseek_llm;
        case PreTokenizer::DeepseekCoder:
            return deepseek_coder;
        case PreTokenizer::Deepseek3:
            return deepseek3;
        case PreTokenizer::Starcoder:
            return starcoder;
        case PreTokenizer::Default:
            break;
    }
    return fallback;
}

struct RegexSplitter::Pattern {
    pcre2_code* code = nullptr;
    ~Pattern() { pcre2_code_free(code); }
};

namespace {

std::string pcre2_message(int code) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(code, buf, sizeof buf);
    return reinterpret_cast<const char*>(buf);
}

// Per-thread match state: the compiled patterns are shared, match data is not.
struct MatchScratch {
    pcre2_match_data* data = pcre2_match_data_create(8, nullptr);
    pcre2_match_context* context = pcre2_match_context_create(nullptr);
    pcre2_jit_stack* jit_stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
    MatchScratch() {
        if (!data || !context) throw std::bad_alloc();
        if (jit_stack) pcre2_jit_stack_assign(context, nullptr, jit_stack);
    }
    ~MatchScratch() {
        pcre2_jit_stack_free(jit_stack);
        pcre2_match_context_free(context);
        pcre2_match_data_free(data);
    }
    MatchScratch(const MatchScratch&) = delete;
    MatchScratch& operator=(const MatchScratch&) = delete;
};

MatchScratch& scratch() {
    thread_local MatchScratch s;
    return s;
}

}  // namespace

RegexSplitter::RegexSplitter(const std::vector<std::string>& patterns) {
    for (const auto& p : patterns) {
        int err = 0;
        PCRE2_SIZE err_offset = 0;
        // $ means the end of the piece only, as in ECMAScript (llama.cpp uses std::regex).
        const uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY;
        auto pattern = std::make_unique<Pattern>();
        pattern->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(), options,
                                      &err, &err_offset, nullptr);
        require(pattern->code != nullptr, "pre-tokenizer regex does not compile at offset ",
                err_offset, ": ", pcre2_message(err), ": ", p);
        pcre2_jit_compile(pattern->code, PCRE2_JIT_COMPLETE);  // the interpreter is the fallback
        patterns_.push_back(std::move(pattern));
    }
}

RegexSplitter::~RegexSplitter() = default;

void RegexSplitter::split(std::string_view text, std::vector<std::string_view>& pieces) const {
    pieces.clear();
    if (text.empty()) return;
    pieces.push_back(text);
    MatchScratch& s = scratch();
    std::vector<std::string_view> next;
    for (const auto& pattern : patterns_) {
        next.clear();
        for (const std::string_view piece : pieces) {
            const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
            size_t emitted = 0, start = 0;
            while (start < piece.size()) {
                const int rc = pcre2_match(pattern->code, subject, piece.size(), start,
                                           PCRE2_NO_UTF_CHECK, s.data, s.context);
                if (rc == PCRE2_ERROR_NOMATCH) break;
                require(rc >= 0, "pre-tokenizer regex failed on the input: ", pcre2_message(rc));
                const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(s.data);
                const size_t begin = ov[0], end = ov[1];
                if (begin == end) {  // an empty match cuts nothing; look again one character on
                    if (begin >= piece.size()) break;
                    start = begin + utf8_lead_length(static_cast<unsigned char>(piece[begin]));
                    continue;
                }
                if (begin > emitted) next.push_back(piece.substr(emitted, begin - emitted));
                next.push_back(piece.substr(begin, end - begin));
                emitted = start = end;
            }
            if (emitted < piece.size()) next.push_back(piece.substr(emitted));
        }
        pieces.swap(next);
    }
}

}  // namespace pangolin
