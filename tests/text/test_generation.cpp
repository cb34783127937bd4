// Text in, text out on real vocabularies: the e2e fixture (Qwen2 vocabulary, R1-Distill
// template tokens) and the kjv-demo model: tokenization, greedy continuation, its text,
// streaming, and llama-perplexity's protocol.
#include <gtest/gtest.h>

#include <regex>

#include "model/registry.h"
#include "runtime/sampler.h"
#include "runtime/session.h"
#include "support/fixtures.h"
#include "text/tokenizer.h"

using namespace pangolin;
using namespace pangolin::test;

namespace {

std::string from_hex(const std::string& hex) {
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
        out += char(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

}  // namespace

TEST(E2e, TokenizeGenerateAndDetokenize) {
    PANGOLIN_REQUIRE_SHARED();
    const auto dir = shared_dir() / "fixtures" / "e2e";
    const auto expected = read_json(dir / "expected.json");
    LoadOptions lo;
    lo.n_threads = 2;
    auto model = load_model((dir / expected["model"].get<std::string>()).string(), lo);
    const auto tokenizer = load_tokenizer(model->source());
    for (const auto& c : expected["cases"]) {
        const std::string text = c["text"];
        SCOPED_TRACE(text);
        const auto prompt = tokenizer->encode(text, /*add_bos=*/true, /*parse_special=*/true);
        ASSERT_EQ(prompt, c["prompt"].get<std::vector<int32_t>>());
        Session session(*model, int64_t(prompt.size()) + 17);
        const std::vector<float>* logits = &session.eval(prompt);
        std::vector<int32_t> greedy;
        StreamDecoder stream(*tokenizer);
        std::string streamed;
        for (int i = 0; i < 16; ++i) {
            const int32_t tok = argmax(logits->data(), model->config().n_vocab);
            greedy.push_back(tok);
            streamed += stream.push(tok);
            if (i < 15) logits = &session.eval({tok});
        }
        streamed += stream.flush();
        EXPECT_EQ(greedy, c["greedy"].get<std::vector<int32_t>>());
        EXPECT_EQ(tokenizer->decode(greedy), from_hex(c["greedy_text_hex"]));
        EXPECT_EQ(streamed, from_hex(c["greedy_text_hex"]));
    }
}

TEST(KjvText, HfFolderGreedyTextIsExact) {
    PANGOLIN_REQUIRE_SHARED();
    const auto dir = shared_dir() / "models" / "kjv-demo";
    const auto expected = read_json(dir / "expected.json");
    int checked = 0;
    for (const auto& c : expected["cases"]) {
        if (c["model"] != "hf") continue;
        const auto r = run_command({pangolin_binary(), "-q", "run", "-m", (dir / "hf").string(),
                                    "-p", c["text"], "-n", std::to_string(c["greedy"].size()),
                                    "--temp", "0", "--no-display-prompt", "-t", "2"});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(r.out, c["greedy_text"].get<std::string>() + "\n");
        ++checked;
    }
    EXPECT_EQ(checked, 4);
}

TEST(KjvText, RunDisplaysPromptThenContinuation) {
    PANGOLIN_REQUIRE_SHARED();
    const auto dir = shared_dir() / "models" / "kjv-demo";
    const auto c = read_json(dir / "expected.json")["cases"][0];
    const auto r = run_command({pangolin_binary(), "-q", "run", "-m", (dir / "hf").string(), "-p",
                                c["text"], "-n", "8", "--temp", "0"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out.rfind(c["text"].get<std::string>(), 0), 0u) << r.out;
}

TEST(KjvText, PerplexityMatchesTheFloat64Reference) {
    PANGOLIN_REQUIRE_SHARED();
    const auto dir = shared_dir() / "models" / "kjv-demo";
    const auto ref = read_json(dir / "expected.json")["perplexity"];
    const auto r = run_command({pangolin_binary(), "perplexity", "-m", (dir / "hf").string(), "-f",
                                (dir / ref["text"].get<std::string>()).string(), "-c",
                                std::to_string(ref["chunk_tokens"].get<int>()), "--chunks",
                                std::to_string(ref["chunks"].get<int>()), "-t", "2"});
    ASSERT_EQ(r.status, 0) << r.err;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(PPL = ([0-9.]+) \+/- ([0-9.]+))")))
        << r.out;
    const double ppl = std::stod(m[1]);
    EXPECT_NEAR(ppl, ref["f32_ppl"].get<double>(), 0.001 * ref["f32_ppl"].get<double>());
    EXPECT_GT(std::stod(m[2]), 0.0);
}

TEST(RunBadInput, PromptAndContext) {
    PANGOLIN_REQUIRE_SHARED();
    const auto model = (shared_dir() / "models" / "kjv-demo" / "kjv-demo-q8_0.gguf").string();
    auto r = run_command(
        {pangolin_binary(), "run", "-m", model, "-p", "In the beginning", "-n", "10", "-c", "8"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("exceed the context size 8"), std::string::npos) << r.err;
    r = run_command(
        {pangolin_binary(), "run", "-m", model, "-p", std::string("bad \xff utf8"), "-n", "2"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("UTF-8"), std::string::npos) << r.err;
    r = run_command({pangolin_binary(), "run", "-m", model, "-n", "2"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("give a prompt"), std::string::npos) << r.err;
    r = run_command({pangolin_binary(), "perplexity", "-m", model, "-f", "/nonexistent.txt"});
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("cannot be read"), std::string::npos) << r.err;
}

// Two turns of `pangolin chat` on stdin: the second turn re-evaluates only what is new.
TEST(Chat, KeepsTheConversationInTheKvCache) {
    PANGOLIN_REQUIRE_SHARED();
    const auto model =
        (shared_dir() / "fixtures" / "e2e" / "tiny-r1-distill-qwen2-q8_0.gguf").string();
    const auto r =
        run_command({pangolin_binary(), "-v", "chat", "-m", model, "-n", "4", "--temp", "0"},
                    "Hello there\nWhat is 2+2?\n/exit\n");
    ASSERT_EQ(r.status, 0) << r.err;
    std::smatch m;
    const std::regex turn(R"(reusing (\d+) cached tokens, evaluating (\d+))");
    std::vector<std::pair<int, int>> turns;
    for (auto it = std::sregex_iterator(r.err.begin(), r.err.end(), turn);
         it != std::sregex_iterator(); ++it)
        turns.emplace_back(std::stoi((*it)[1]), std::stoi((*it)[2]));
    ASSERT_EQ(turns.size(), 2u) << r.err;
    EXPECT_EQ(turns[0].first, 0);
    EXPECT_GT(turns[1].first, turns[0].second / 2)
        << "the second turn should reuse the first turn's prompt";
    EXPECT_LT(turns[1].second, turns[1].first + turns[1].second);
}
