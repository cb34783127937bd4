// The output pipeline (server and chat) on real token ids: streamed text, stop strings across
// tokens, reasoning split, tool calls the model writes in its template's format, JSON constraint.
#include <gtest/gtest.h>

#include "runtime/output_processor.h"
#include "support/fixtures.h"
#include "text/tokenizer.h"

using namespace pangolin;
using namespace pangolin::test;

namespace {

std::unique_ptr<Tokenizer> qwen2_vocab() {
    return load_tokenizer(
        (shared_dir() / "fixtures" / "e2e" / "tiny-r1-distill-qwen2-q8_0.gguf").string());
}

// Feeds the tokens of `text` one at a time; returns the concatenated deltas.
OutputDelta run(OutputProcessor& out, const Tokenizer& tok, const std::string& text) {
    OutputDelta all;
    auto add = [&](const OutputDelta& d) {
        all.reasoning += d.reasoning;
        all.content += d.content;
        for (const auto& c : d.tool_calls) all.tool_calls.push_back(c);
    };
    for (int32_t id : tok.encode(text, false, true)) add(out.push(id));
    add(out.finish());
    return all;
}

}  // namespace

TEST(ServerOutput, ToolCallsInTheQwenFormatAreParsed) {
    PANGOLIN_REQUIRE_SHARED();
    const auto tok = qwen2_vocab();
    OutputProcessorOptions o;
    o.chat_template =
        read_file(shared_dir() / "fixtures" / "templates" / "Qwen-Qwen2.5-7B-Instruct.jinja");
    o.tools = ojson::parse(
        R"([{"type": "function", "function": {"name": "get_weather", "parameters": {}}}])");
    OutputProcessor out(*tok, o);
    const auto d = run(out, *tok,
                       "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                       "{\"city\": \"Paris\"}}\n</tool_call>");
    EXPECT_EQ(d.content, "Let me check.\n");
    ASSERT_EQ(d.tool_calls.size(), 1u);
    EXPECT_EQ(d.tool_calls[0]["function"]["name"], "get_weather");
    EXPECT_EQ(nlohmann::json::parse(d.tool_calls[0]["function"]["arguments"].get<std::string>()),
              nlohmann::json::parse(R"({"city": "Paris"})"));
    EXPECT_TRUE(out.has_tool_calls());
    EXPECT_EQ(out.result().content, "Let me check.\n");
    // with tool_choice "none" the same text is plain content
    o.tool_choice.mode = ToolChoice::Mode::None;
    OutputProcessor plain(*tok, o);
    const auto p = run(plain, *tok,
                       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {}}\n</tool_call>");
    EXPECT_TRUE(p.tool_calls.empty());
    EXPECT_NE(p.content.find("get_weather"), std::string::npos);
}

TEST(ServerOutput, ReasoningSplitWhenThePromptOpensThink) {
    PANGOLIN_REQUIRE_SHARED();
    const auto tok = qwen2_vocab();
    OutputProcessorOptions o;
    o.prompt_text = "<｜User｜>2+2?<｜Assistant｜><think>\n";
    OutputProcessor out(*tok, o);
    const auto d = run(out, *tok, "Two plus two is four.\n</think>\n\nThe answer is 4.");
    EXPECT_EQ(d.reasoning, "Two plus two is four.");
    EXPECT_EQ(d.content, "The answer is 4.");
    EXPECT_TRUE(out.result().has_reasoning);
}

TEST(ServerOutput, StopStringAcrossTokensIsNeverEmitted) {
    PANGOLIN_REQUIRE_SHARED();
    const auto tok = qwen2_vocab();
    OutputProcessorOptions o;
    o.chat = false;
    o.stop = {"upon a"};
    OutputProcessor out(*tok, o);
    const auto d = run(out, *tok, "Hello world! Once upon a time");
    EXPECT_EQ(d.content, "Hello world! Once ");
    EXPECT_TRUE(out.stopped());
}

TEST(ServerOutput, JsonConstraintMasksLogits) {
    PANGOLIN_REQUIRE_SHARED();
    const auto tok = qwen2_vocab();
    OutputProcessorOptions o;
    o.response_format = "json_object";
    OutputProcessor out(*tok, o);
    auto proc = out.logits_processor();
    auto accept = out.token_acceptor();
    ASSERT_TRUE(proc && accept);
    std::vector<float> logits(tok->n_vocab(), 0.0f);
    proc(logits.data(), int64_t(logits.size()));
    const int32_t brace = tok->encode("{", false, false)[0],
                  letter = tok->encode("a", false, false)[0];
    EXPECT_EQ(logits[size_t(brace)], 0.0f);
    EXPECT_TRUE(std::isinf(logits[size_t(letter)]));
    OutputProcessorOptions bad;
    bad.response_format = "json_schema";
    bad.json_schema = ojson::parse(R"({"type": "string", "pattern": "^a+$"})");
    EXPECT_THROW(OutputProcessor(*tok, bad), std::exception);
}
