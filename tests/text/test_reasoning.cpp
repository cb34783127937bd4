// Reasoning split: every chunking of the output gives the same split (byte by byte, random
// chunks, the real tokens of the R1-distill Qwen2 vocabulary), for both ways a block opens,
// openPangu's markers and models that do not reason; detection from the vocabulary and the
// prompts the real templates render (../shared/fixtures/templates/cases.json).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "support/fixtures.h"
#include "support_vocab.h"
#include "text/reasoning.h"
#include "text/tokenizer.h"

using namespace pangolin;
using namespace pangolin::test;

namespace {

ReasoningFormat think(bool starts_in_reasoning) {
    return {"<think>", "</think>", starts_in_reasoning};
}
ReasoningFormat pangu(bool starts_in_reasoning) {
    return {"[unused16]", "[unused17]", starts_in_reasoning};
}

ReasoningDelta split_chunks(const ReasoningFormat& format, const std::vector<std::string>& chunks) {
    ReasoningSplitter splitter(format);
    ReasoningDelta all;
    for (const auto& chunk : chunks) {
        const ReasoningDelta d = splitter.push(chunk);
        all.reasoning += d.reasoning;
        all.content += d.content;
    }
    const ReasoningDelta d = splitter.flush();
    all.reasoning += d.reasoning;
    all.content += d.content;
    return all;
}

// The split of `text` fed whole, byte by byte and in random chunks: all must agree.
ReasoningDelta split_every_way(const ReasoningFormat& format, const std::string& text) {
    const ReasoningDelta whole = split_chunks(format, {text});
    std::vector<std::string> bytes;
    for (const char c : text) bytes.emplace_back(1, c);
    const ReasoningDelta by_byte = split_chunks(format, bytes);
    EXPECT_EQ(by_byte.reasoning, whole.reasoning) << "byte by byte: " << text;
    EXPECT_EQ(by_byte.content, whole.content) << "byte by byte: " << text;
    std::mt19937 rng(7);
    for (int trial = 0; trial < 50; ++trial) {
        std::vector<std::string> chunks;
        for (size_t pos = 0; pos < text.size();) {
            const size_t n = std::uniform_int_distribution<size_t>(0, 9)(rng);
            chunks.push_back(text.substr(pos, n));
            pos += n;
        }
        const ReasoningDelta random = split_chunks(format, chunks);
        EXPECT_EQ(random.reasoning, whole.reasoning) << "random chunks: " << text;
        EXPECT_EQ(random.content, whole.content) << "random chunks: " << text;
    }
    return whole;
}

void expect_split(const ReasoningFormat& format, const std::string& text,
                  const std::string& reasoning, const std::string& content) {
    const ReasoningDelta d = split_every_way(format, text);
    EXPECT_EQ(d.reasoning, reasoning) << text;
    EXPECT_EQ(d.content, content) << text;
}

}  // namespace

TEST(Reasoning, OpenMarkerInOutput) {
    // Qwen3: the model writes <think> itself.
    expect_split(think(false), "<think>\nLet me add.\n2+2=4\n</think>\n\nThe answer is 4.",
                 "Let me add.\n2+2=4", "The answer is 4.");
    expect_split(think(false), "<think></think>Hi", "", "Hi");
    expect_split(think(false), "\n<think>x</think>  \n y", "x", "y");
    // No block at the start: all content, markers later included.
    expect_split(think(false), "Hello <think>x</think>", "", "Hello <think>x</think>");
    expect_split(think(false), "  plain", "", "  plain");
    // Unclosed block at the end: reasoning.
    expect_split(think(false), "<think>\nstill thinking  \n", "still thinking", "");
    // Output that is only a piece of the marker.
    expect_split(think(false), "<thi", "", "<thi");
    expect_split(think(false), "", "", "");
}

TEST(Reasoning, OpenMarkerInPrompt) {
    // R1 distills / QwQ: the prompt ends with "<think>\n".
    expect_split(think(true), "Okay, 2+2.\nThat is 4.\n</think>\n\n**4**", "Okay, 2+2.\nThat is 4.",
                 "**4**");
    // The model repeats the open marker: dropped.
    expect_split(think(true), "<think>\nhmm\n</think>4", "hmm", "4");
    // Never closed: everything is reasoning.
    expect_split(think(true), "  thinking forever", "thinking forever", "");
    // Something that starts like a marker but is not one stays in the reasoning.
    expect_split(think(true), "a </thin k> b <think c</think>ok", "a </thin k> b <think c", "ok");
    expect_split(think(true), "</think>", "", "");
    expect_split(think(true), "x</think></think>", "x", "</think>");
    // Whitespace inside reasoning is kept, at its ends dropped.
    expect_split(think(true), "\n\n a \n\n b \n\n</think>\t\n c \n", "a \n\n b", "c \n");
}

TEST(Reasoning, OpenPanguMarkers) {
    expect_split(pangu(false), "[unused16]先算一下：2+2=4。[unused17]答案是4。",
                 "先算一下：2+2=4。", "答案是4。");
    expect_split(pangu(true), "思考[unused17]\n答案", "思考", "答案");
    expect_split(pangu(false), "<think>not ours</think>", "", "<think>not ours</think>");
}

TEST(Reasoning, NoReasoningModel) {
    const ReasoningFormat none;
    EXPECT_FALSE(none.enabled());
    expect_split(none, "<think>\nx\n</think>\n\ny", "", "<think>\nx\n</think>\n\ny");
    expect_split(none, "", "", "");
}

TEST(Reasoning, StreamingHoldsOnlyPossibleMarkers) {
    ReasoningSplitter s(think(true));
    EXPECT_EQ(s.push("Let me see").reasoning, "Let me see");
    EXPECT_EQ(s.push(" more </thi").reasoning, " more");  // " </thi" held
    EXPECT_TRUE(s.in_reasoning());
    const ReasoningDelta d = s.push("nk>\n\nDone");
    EXPECT_EQ(d.reasoning, "");
    EXPECT_EQ(d.content, "Done");
    EXPECT_FALSE(s.in_reasoning());
    EXPECT_TRUE(s.flush().empty());

    ReasoningSplitter t(think(true));
    EXPECT_EQ(t.push("a </").reasoning, "a");
    EXPECT_EQ(t.push("b").reasoning, " </b");  // not a marker after all: released
}

TEST(Reasoning, DetectFromVocabularyAndPrompt) {
    const auto has = [](std::vector<std::string> tokens) {
        return [tokens](std::string_view text) {
            return std::find(tokens.begin(), tokens.end(), text) != tokens.end();
        };
    };
    const auto qwen3 = has({"<think>", "</think>", "<|im_start|>"});
    ReasoningFormat f =
        detect_reasoning_format(qwen3, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
    EXPECT_TRUE(f.enabled());
    EXPECT_EQ(f.open, "<think>");
    EXPECT_EQ(f.close, "</think>");
    EXPECT_FALSE(f.starts_in_reasoning);
    // enable_thinking=false renders a closed empty block: all content.
    f = detect_reasoning_format(qwen3, "<|im_start|>assistant\n<think>\n\n</think>\n\n");
    EXPECT_FALSE(f.starts_in_reasoning);
    f = detect_reasoning_format(qwen3, "<｜Assistant｜><think>\n");
    EXPECT_TRUE(f.starts_in_reasoning);
    // openPangu.
    f = detect_reasoning_format(has({"[unused16]", "[unused17]"}), "[unused9]助手：");
    EXPECT_EQ(f.open, "[unused16]");
    EXPECT_FALSE(f.starts_in_reasoning);
    f = detect_reasoning_format(has({"[unused16]", "[unused17]"}), "[unused9]助手：[unused16]");
    EXPECT_TRUE(f.starts_in_reasoning);
    // Both pairs in the vocabulary: the one the prompt uses.
    f = detect_reasoning_format(has({"<think>", "</think>", "[unused16]", "[unused17]"}),
                                "x[unused17]y[unused16]");
    EXPECT_EQ(f.open, "[unused16]");
    EXPECT_TRUE(f.starts_in_reasoning);
    // No marker tokens: no reasoning, unless the prompt opens a block.
    EXPECT_FALSE(detect_reasoning_format(has({"<|eot_id|>"}), "<think>\n</think>").enabled());
    f = detect_reasoning_format(has({"<|eot_id|>"}), "<｜Assistant｜><think>\n");
    EXPECT_EQ(f.close, "</think>");
    EXPECT_TRUE(f.starts_in_reasoning);
}

TEST(Reasoning, DetectOnRenderedTemplates) {
    PANGOLIN_REQUIRE_SHARED();
    const auto cases = read_json(shared_dir() / "fixtures" / "templates" / "cases.json");
    // The generation prompts the real templates render: open (thinking starts in the prompt)
    // or closed (enable_thinking unset renders "<think>\n</think>" / "<think></think>").
    std::map<std::string, bool> expected = {
        {"deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja", true},
        {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", false},
        {"deepseek-ai-DeepSeek-V3.1.jinja", false},
        {"Qwen-QwQ-32B.jinja", false},
        {"Qwen-Qwen3-0.6B.jinja", false},
    };
    // These models' vocabularies have <think> and </think> as tokens; the Qwen2 vocabulary of
    // the e2e fixture (and Qwen2.5's, Llama 3's) has not.
    const auto reasoning_vocab = [](std::string_view t) {
        return t == "<think>" || t == "</think>";
    };
    const auto plain = load_tokenizer((e2e_dir() / "tiny-r1-distill-qwen2-q8_0.gguf").string());
    int checked = 0;
    for (const auto& c : cases["cases"]) {
        const std::string name = c["template"];
        if (!c["add_generation_prompt"].get<bool>() || c["conversation"] != "user_only") continue;
        const std::string prompt = c["expected"];
        if (expected.count(name)) {
            const ReasoningFormat f = detect_reasoning_format(reasoning_vocab, prompt);
            EXPECT_TRUE(f.enabled()) << name;
            EXPECT_EQ(f.starts_in_reasoning, expected[name]) << name;
            ++checked;
        }
        // Without the marker tokens only a block the prompt opens is split.
        const ReasoningFormat f = detect_reasoning_format(*plain, prompt);
        EXPECT_EQ(f.enabled(), expected.count(name) && expected[name]) << name;
        EXPECT_EQ(f.starts_in_reasoning, expected.count(name) && expected[name]) << name;
    }
    EXPECT_EQ(checked, 5);
}

TEST(Reasoning, MarkersSplitAcrossRealTokens) {
    PANGOLIN_REQUIRE_SHARED();
    const auto tok = load_tokenizer((e2e_dir() / "tiny-r1-distill-qwen2-q8_0.gguf").string());
    const std::string head = "Let me think about 漢字 and emoji 🙂.\n</",
                      tail = "think>\n\nFinal: 42";
    // This vocabulary spells the marker in pieces; cut it once more by encoding two halves.
    const auto whole = tok->encode(head + tail, false, true);
    auto cut = tok->encode(head, false, true);
    for (const int32_t id : tok->encode(tail, false, true)) cut.push_back(id);
    for (const auto& ids : {whole, cut}) {
        for (const int32_t id : ids)  // the marker is always spread over several tokens
            EXPECT_EQ(tok->token_to_piece(id).find("</think>"), std::string::npos);
        StreamDecoder decoder(*tok);
        ReasoningSplitter splitter(think(true));
        ReasoningDelta all;
        for (const int32_t id : ids) {
            const ReasoningDelta d = splitter.push(decoder.push(id));
            all.reasoning += d.reasoning;
            all.content += d.content;
        }
        const ReasoningDelta d = splitter.push(decoder.flush());
        const ReasoningDelta e = splitter.flush();
        all.reasoning += d.reasoning + e.reasoning;
        all.content += d.content + e.content;
        EXPECT_EQ(all.reasoning, "Let me think about 漢字 and emoji 🙂.") << ids.size();
        EXPECT_EQ(all.content, "Final: 42") << ids.size();
    }
}
