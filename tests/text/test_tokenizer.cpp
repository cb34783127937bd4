// Tokenizers against llama.cpp's results on the real models of ../shared: the kjv demo
// (SentencePiece, GGUF and HF tokenizer.model) and the e2e Qwen2 vocabulary; streaming
// detokenization; special tokens.
#include <gtest/gtest.h>

#include <random>

#include "support/fixtures.h"
#include "support_vocab.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

using namespace pangolin;
using namespace pangolin::test;

namespace {

std::string stream_all(const Tokenizer& tok, const std::vector<int32_t>& ids,
                       std::vector<std::string>* chunks = nullptr) {
    StreamDecoder stream(tok);
    std::string out;
    for (const int32_t id : ids) {
        std::string chunk = stream.push(id);
        if (chunks) chunks->push_back(chunk);
        out += chunk;
    }
    return out + stream.flush();
}

std::string from_hex(const std::string& hex) {
    std::string out;
    for (size_t k = 0; k + 1 < hex.size(); k += 2)
        out += static_cast<char>(std::stoi(hex.substr(k, 2), nullptr, 16));
    return out;
}

}  // namespace

TEST(KjvDemo, GgufAndHfTokenizersMatchLlamaCpp) {
    PANGOLIN_REQUIRE_SHARED();
    const auto gguf = load_tokenizer((kjv_dir() / "kjv-demo-q8_0.gguf").string());
    const auto hf =
        load_tokenizer((kjv_dir() / "hf").string());  // tokenizer.model via libsentencepiece
    EXPECT_EQ(gguf->n_vocab(), 2048u);
    EXPECT_EQ(hf->n_vocab(), 2048u);
    const auto expected = read_json(kjv_dir() / "expected.json");
    int checked = 0;
    for (const auto& c : expected["cases"]) {
        const auto text = c["text"].get<std::string>();
        const auto prompt = c["prompt"].get<std::vector<int32_t>>();
        EXPECT_EQ(prompt, c["hf_tokenizer_ids"].get<std::vector<int32_t>>());
        EXPECT_EQ(gguf->encode(text, true, true), prompt) << text;
        EXPECT_EQ(hf->encode(text, true, true), prompt) << text;
        // Generated text as llama.cpp prints it: each token's piece, spaces kept.
        const auto greedy = c["greedy"].get<std::vector<int32_t>>();
        EXPECT_EQ(stream_all(*gguf, greedy), c["greedy_text"].get<std::string>()) << text;
        EXPECT_EQ(stream_all(*hf, greedy), c["greedy_text"].get<std::string>()) << text;
        // The prompt decodes back to its text (the dummy-prefix space dropped).
        EXPECT_EQ(gguf->decode(std::vector<int32_t>(prompt.begin() + 1, prompt.end())), text);
        ++checked;
    }
    EXPECT_EQ(checked, 8);
    EXPECT_EQ(gguf->bos(), 1);
    EXPECT_EQ(hf->eos(), 2);
    EXPECT_EQ(hf->bos_text(), "<s>");
    EXPECT_EQ(hf->eos_text(), "</s>");
    EXPECT_TRUE(hf->is_eog(2));
    EXPECT_TRUE(hf->add_bos_default());
}

TEST(E2eQwen2, TokenizesAndDecodesLikeLlamaCpp) {
    PANGOLIN_REQUIRE_SHARED();
    const auto tok = load_tokenizer((e2e_dir() / "tiny-r1-distill-qwen2-q8_0.gguf").string());
    EXPECT_EQ(tok->n_vocab(), 151936u);
    EXPECT_FALSE(tok->add_bos_default());
    const auto expected = read_json(e2e_dir() / "expected.json");
    ASSERT_EQ(expected["cases"].size(), 4u);
    for (const auto& c : expected["cases"]) {
        const auto text = c["text"].get<std::string>();
        EXPECT_EQ(tok->encode(text, true, true), c["prompt"].get<std::vector<int32_t>>()) << text;
        const auto greedy = c["greedy"].get<std::vector<int32_t>>();
        const auto want = from_hex(c["greedy_text_hex"].get<std::string>());
        EXPECT_EQ(tok->decode(greedy), want) << text;
        EXPECT_EQ(stream_all(*tok, greedy), want) << text;
    }
}

TEST(E2eQwen2, ChatTemplateAndEndOfGeneration) {
    PANGOLIN_REQUIRE_SHARED();
    const auto tok = load_tokenizer((e2e_dir() / "tiny-r1-distill-qwen2-q8_0.gguf").string());
    EXPECT_NE(tok->chat_template().find("{% for message in messages %}"), std::string::npos);
    const int32_t im_end = tok->find_token("<|im_end|>").value();
    EXPECT_TRUE(tok->is_eog(im_end));
    EXPECT_TRUE(tok->is_eog(tok->eos()));
    EXPECT_EQ(tok->eos_text(), "<|endoftext|>");
    EXPECT_FALSE(tok->is_eog(tok->find_token("Hello").value()));
}

TEST(SpecialTokens, ParsedOnlyWhenAsked) {
    PANGOLIN_REQUIRE_SHARED();
    const auto tok = load_tokenizer(vocab_gguf("qwen2"));
    const int32_t im_start = tok->find_token("<|im_start|>").value();
    const int32_t im_end = tok->find_token("<|im_end|>").value();
    const std::string text = "<|im_start|>user\nHi<|im_end|>";
    const auto parsed = tok->encode(text, false, true);
    ASSERT_EQ(parsed.size(), 5u);
    EXPECT_EQ(parsed.front(), im_start);
    EXPECT_EQ(parsed.back(), im_end);
    const auto plain = tok->encode(text, false, false);
    EXPECT_EQ(std::count(plain.begin(), plain.end(), im_start), 0);
    EXPECT_GT(plain.size(), parsed.size());
    EXPECT_EQ(tok->decode(parsed), text);
    EXPECT_EQ(tok->decode(plain), text);
    EXPECT_EQ(tok->decode(parsed, /*skip_special=*/true), "user\nHi");
    EXPECT_EQ(tok->token_to_piece(im_end, false), "");
    EXPECT_EQ(tok->token_to_piece(im_end), "<|im_end|>");
}

TEST(SpecialTokens, SentencePieceBosAndSpacePrefix) {
    PANGOLIN_REQUIRE_SHARED();
    const auto tok = load_tokenizer(vocab_gguf("llama-spm"));
    const auto ids = tok->encode("Hello</s>world", true, true);
    // BOS, "▁Hello", </s>, then "▁world": text after a special token gets the dummy prefix.
    ASSERT_EQ(ids.size(), 4u);
    EXPECT_EQ(ids[0], 1);
    EXPECT_EQ(ids[2], 2);
    EXPECT_EQ(tok->token_text(ids[1]), "\xE2\x96\x81Hello");
    EXPECT_EQ(tok->token_text(ids[3]), "\xE2\x96\x81world");
    const auto plain = tok->encode("Hello</s>world", true, false);  // "</s>" spelled as text
    EXPECT_EQ(std::count(plain.begin(), plain.end(), 2), 0);
    EXPECT_EQ(tok->decode(plain, true), " Hello</s>world");
    // llama.cpp's detokenize: the first token's dummy space goes, a space after BOS stays.
    EXPECT_EQ(tok->decode({ids[1]}), "Hello");
    EXPECT_EQ(tok->decode(ids), "<s> Hello</s> world");
    EXPECT_EQ(tok->decode(ids, true), " Hello world");
}

TEST(StreamDecoder, NeverEmitsHalfACharacter) {
    PANGOLIN_REQUIRE_SHARED();
    const std::string text =
        "Grüße, 世界! Llamas 🦙🦙 and rockets 🚀; naïve café — 😶‍🌫️ ok ✅";
    for (const std::string& path :
         {vocab_gguf("qwen2"), vocab_gguf("llama-spm"), vocab_gguf("gpt-2"),
          (kjv_dir() / "kjv-demo-q8_0.gguf").string()}) {
        const auto tok = load_tokenizer(path);
        const auto ids = tok->encode(text, false, false);
        std::string pieces;
        size_t partial_tokens = 0;  // tokens whose bytes end inside a character
        for (const int32_t id : ids) {
            pieces += tok->token_to_piece(id);
            partial_tokens += utf8_incomplete_tail(pieces) > 0;
        }
        EXPECT_GT(partial_tokens, 0u) << path << ": the text should split characters across tokens";
        std::vector<std::string> chunks;
        const std::string streamed = stream_all(*tok, ids, &chunks);
        EXPECT_EQ(streamed, pieces) << path;
        EXPECT_NE(streamed.find(text), std::string::npos) << path;
        for (const auto& chunk : chunks) {
            EXPECT_EQ(utf8_first_invalid(chunk), std::string_view::npos) << path;
            EXPECT_EQ(chunk.find("\xEF\xBF\xBD"), std::string::npos) << path;  // no U+FFFD
        }
    }
}

TEST(StreamDecoder, UnfinishedCharacterBecomesReplacementAtFlush) {
    PANGOLIN_REQUIRE_SHARED();
    const auto tok = load_tokenizer(vocab_gguf("llama-spm"));
    const int32_t e4 = tok->find_token("<0xE4>").value();  // first byte of a 3-byte character
    StreamDecoder stream(*tok);
    EXPECT_EQ(stream.push(e4), "");
    EXPECT_EQ(stream.push(tok->find_token("<0x41>").value()),
              "\xEF\xBF\xBD"
              "A");  // broken by 'A'
    EXPECT_EQ(stream.push(e4), "");
    EXPECT_EQ(stream.flush(), "\xEF\xBF\xBD");
    EXPECT_EQ(stream.flush(), "");
}

// DeepSeek Coder stores its chat and FIM markers as user-defined tokens. User-defined tokens
// are always split out of the text; the FIM markers are recognised by their text and become
// control tokens, as llama.cpp does, so they need parse_special.
TEST(SpecialTokens, UserDefinedAlwaysSplitFimOnlyWhenParsing) {
    PANGOLIN_REQUIRE_SHARED();
    const auto tok = load_tokenizer(vocab_gguf("deepseek-coder"));
    const int32_t user = tok->find_token("<|User|>").value();
    const int32_t hole = tok->find_token(
                                "<\xEF\xBD\x9C"
                                "fim\xE2\x96\x81hole\xEF\xBD\x9C>")
                             .value();
    EXPECT_EQ(tok->encode("<|User|>", false, false), std::vector<int32_t>{user});
    EXPECT_EQ(tok->encode("<|User|>", false, true), std::vector<int32_t>{user});
    EXPECT_EQ(tok->encode("<\xEF\xBD\x9C"
                          "fim\xE2\x96\x81hole\xEF\xBD\x9C>",
                          false, true),
              std::vector<int32_t>{hole});
    EXPECT_GT(tok->encode("<\xEF\xBD\x9C"
                          "fim\xE2\x96\x81hole\xEF\xBD\x9C>",
                          false, false)
                  .size(),
              1u);
    EXPECT_TRUE(tok->is_control(hole));
    EXPECT_FALSE(tok->is_control(user));
}

// Random valid UTF-8 (ASCII, Latin, CJK, emoji, combining marks, Unicode spaces, special-token
// texts) never breaks a tokenizer, and the pieces of the ids are the text again.
TEST(Tokenizer, RandomTextRoundTripsThroughPieces) {
    PANGOLIN_REQUIRE_SHARED();
    const std::vector<std::string> atoms = {"a",
                                            "Z",
                                            "7",
                                            " ",
                                            "  ",
                                            "\t",
                                            "\n",
                                            "\r\n",
                                            "'s",
                                            "'LL",
                                            ".",
                                            "!?",
                                            "\xC3\xA9",
                                            "e\xCC\x81",
                                            "\xE4\xB8\x96",
                                            "\xED\x95\x9C",
                                            "\xE3\x80\x80",
                                            "\xC2\x85",
                                            "\xC2\xA0",
                                            "\xE2\x80\x8D",
                                            "\xF0\x9F\xA6\x99",
                                            "\xF0\x9F\x98\xB6",
                                            "\xD0\xB4",
                                            "\xE1\x9E\x80",
                                            "<|im_start|>",
                                            "<s>",
                                            "<|User|>",
                                            "\xEF\xBC\x81",
                                            "123456",
                                            "\xEF\xBD\x9E",
                                            "\xE2\x80\x9C"};
    std::mt19937 rng(1234);
    for (const char* name :
         {"qwen2", "qwen35", "llama-bpe", "gpt-2", "deepseek-llm", "deepseek-coder", "llama-spm"}) {
        const auto tok = load_tokenizer(vocab_gguf(name));
        const bool spm = std::string(name) == "llama-spm";
        for (int n = 0; n < 150; ++n) {
            std::string text;
            const int len = int(rng() % 24);
            for (int k = 0; k < len; ++k) text += atoms[rng() % atoms.size()];
            for (const bool parse_special : {false, true}) {
                if (spm && parse_special)
                    continue;  // text after a special token gains a dummy space
                std::string pieces;
                for (const int32_t id : tok->encode(text, false, parse_special))
                    pieces += tok->token_to_piece(id);
                EXPECT_EQ(pieces, (spm && !text.empty() ? " " : "") + text)
                    << name << " " << ::testing::PrintToString(text);
            }
        }
    }
}
