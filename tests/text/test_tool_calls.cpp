// Tool-call parsing on what the real chat templates render for an assistant's tool call
// (../shared/fixtures/templates/cases.json), several calls, content around calls, malformed
// calls falling back to content, and streaming (any chunking) equal to non-streaming.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "support/fixtures.h"
#include "text/tool_calls.h"

using namespace pangolin;
using namespace pangolin::test;
using nlohmann::json;

namespace {

// push() in the given chunks, then finish(); content is what push() emitted plus finish()'s.
ToolCallResult parse_chunks(ToolCallFormat format, const std::vector<std::string>& chunks) {
    ToolCallParser parser(format, 42);
    std::string content;
    for (const auto& chunk : chunks) content += parser.push(chunk);
    ToolCallResult result = parser.finish();
    result.content = content + result.content;
    return result;
}

void expect_same(const ToolCallResult& a, const ToolCallResult& b, const std::string& what) {
    EXPECT_EQ(a.content, b.content) << what;
    ASSERT_EQ(a.calls.size(), b.calls.size()) << what;
    for (size_t k = 0; k < a.calls.size(); ++k) {
        EXPECT_EQ(a.calls[k].id, b.calls[k].id) << what;
        EXPECT_EQ(a.calls[k].name, b.calls[k].name) << what;
        EXPECT_EQ(a.calls[k].arguments, b.calls[k].arguments) << what;
    }
}

// Non-streaming, then checks that byte-by-byte and random chunkings agree with it.
ToolCallResult parse(ToolCallFormat format, const std::string& text) {
    const ToolCallResult whole = parse_tool_calls(format, text, 42);
    expect_same(parse_chunks(format, {text}), whole, "one chunk: " + text);
    std::vector<std::string> bytes;
    for (const char c : text) bytes.emplace_back(1, c);
    expect_same(parse_chunks(format, bytes), whole, "byte by byte: " + text);
    std::mt19937 rng(3);
    for (int trial = 0; trial < 30; ++trial) {
        std::vector<std::string> chunks;
        for (size_t pos = 0; pos < text.size();) {
            const size_t n = std::uniform_int_distribution<size_t>(0, 12)(rng);
            chunks.push_back(text.substr(pos, n));
            pos += n;
        }
        expect_same(parse_chunks(format, chunks), whole, "random chunks: " + text);
    }
    return whole;
}

void expect_call(const ToolCall& call, const std::string& name, const json& arguments) {
    EXPECT_EQ(call.name, name);
    EXPECT_EQ(json::parse(call.arguments), arguments) << call.arguments;
    EXPECT_EQ(call.id.size(), 29u);
    EXPECT_EQ(call.id.rfind("call_", 0), 0u);
}

const std::string k_hermes_call =
    "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
    "\"Shenzhen\"}}\n</tool_call>";
const std::string k_r1_call =
    "<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Shenzhen\"}\n```"
    "<｜tool▁call▁end｜>";
const std::string k_v31_call =
    "<｜tool▁call▁begin｜>get_weather<｜tool▁sep｜>{\"city\": \"Shenzhen\"}<｜tool▁call▁end｜>";

}  // namespace

TEST(ToolCalls, FormatFromTemplates) {
    PANGOLIN_REQUIRE_SHARED();
    const auto dir = shared_dir() / "fixtures" / "templates";
    const std::map<std::string, ToolCallFormat> expected = {
        {"Qwen-Qwen2.5-7B-Instruct.jinja", ToolCallFormat::Hermes},
        {"Qwen-Qwen3-0.6B.jinja", ToolCallFormat::Hermes},
        {"Qwen-QwQ-32B.jinja", ToolCallFormat::Hermes},
        {"deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", ToolCallFormat::DeepSeekR1},
        {"deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja", ToolCallFormat::DeepSeekR1},
        {"deepseek-ai-DeepSeek-V3.1.jinja", ToolCallFormat::DeepSeekV31},
        {"meta-llama-Llama-3.1-8B-Instruct.jinja", ToolCallFormat::Llama3Json},
        {"meta-llama-Llama-3.3-70B-Instruct.jinja", ToolCallFormat::Llama3Json},
    };
    for (const auto& [name, format] : expected)
        EXPECT_EQ(detect_tool_call_format(read_file(dir / name)), format) << name;
    EXPECT_EQ(detect_tool_call_format("{{ messages }}"), ToolCallFormat::None);
}

TEST(ToolCalls, FormatNames) {
    EXPECT_EQ(tool_call_format_from_name("hermes"), ToolCallFormat::Hermes);
    EXPECT_EQ(tool_call_format_from_name("deepseek_v3"), ToolCallFormat::DeepSeekR1);
    EXPECT_EQ(tool_call_format_from_name("deepseek_v31"), ToolCallFormat::DeepSeekV31);
    EXPECT_EQ(tool_call_format_from_name("llama3_json"), ToolCallFormat::Llama3Json);
    for (const auto f : {ToolCallFormat::None, ToolCallFormat::Hermes, ToolCallFormat::DeepSeekR1,
                         ToolCallFormat::DeepSeekV31, ToolCallFormat::Llama3Json})
        EXPECT_EQ(tool_call_format_from_name(tool_call_format_name(f)), f);
    try {
        tool_call_format_from_name("mistral");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("mistral"), std::string::npos) << e.what();
    }
}

// The assistant's tool-call turn exactly as each template renders it, parsed back into the
// call the conversation holds.
TEST(ToolCalls, RenderedTemplateCallsParseBack) {
    PANGOLIN_REQUIRE_SHARED();
    const auto dir = shared_dir() / "fixtures" / "templates";
    const auto cases = read_json(dir / "cases.json");
    int checked = 0;
    for (const auto& c : cases["cases"]) {
        if (c["conversation"] != "tools_call" || c["add_generation_prompt"].get<bool>()) continue;
        const std::string name = c["template"];
        const ToolCallFormat format = detect_tool_call_format(read_file(dir / name));
        const std::string rendered = c["expected"];
        // From the call's first marker after the user's question (the tool list in the
        // system prompt shows the markers too) to the end of the assistant turn.
        const size_t question = rendered.find("Weather in Shenzhen?");
        ASSERT_NE(question, std::string::npos);
        size_t begin = std::string::npos;
        for (const char* marker : {"<tool_call>", "<｜tool▁calls▁begin｜>", "{\"name\""})
            begin = std::min(begin, rendered.find(marker, question));
        if (begin == std::string::npos) continue;  // R1-Distill-Llama renders no call for ""
        size_t end = std::string::npos;
        for (const char* eot : {"<|im_end|>", "<｜end▁of▁sentence｜>", "<|eot_id|>"})
            end = std::min(end, rendered.find(eot, begin));
        const std::string text = rendered.substr(begin, end - begin);
        const ToolCallResult r = parse(format, text);
        ASSERT_EQ(r.calls.size(), 1u) << name << ": " << text;
        const json& expected_call = c["messages"][1]["tool_calls"][0]["function"];
        expect_call(r.calls[0], expected_call["name"], expected_call["arguments"]);
        EXPECT_EQ(r.content, "") << name;
        ++checked;
    }
    EXPECT_EQ(checked, 7);  // every template that renders tool calls
}

TEST(ToolCalls, HermesSeveralCallsAndContent) {
    const std::string second =
        "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {\"tz\": \"Asia/Shanghai\", "
        "\"fmt\": [1, 2.5, null, \"é\"]}}\n</tool_call>";
    ToolCallResult r =
        parse(ToolCallFormat::Hermes, "Let me check both.\n" + k_hermes_call + "\n" + second);
    ASSERT_EQ(r.calls.size(), 2u);
    expect_call(r.calls[0], "get_weather", {{"city", "Shenzhen"}});
    expect_call(r.calls[1], "get_time",
                {{"tz", "Asia/Shanghai"}, {"fmt", json::array({1, 2.5, nullptr, "é"})}});
    // Compact, key order as written.
    EXPECT_EQ(r.calls[1].arguments, "{\"tz\":\"Asia/Shanghai\",\"fmt\":[1,2.5,null,\"é\"]}");
    EXPECT_NE(r.calls[0].id, r.calls[1].id);
    EXPECT_EQ(r.content, "Let me check both.\n");
    // Text after the calls; a last call cut off before </tool_call>; no arguments.
    r = parse(ToolCallFormat::Hermes, k_hermes_call + "\nDone.");
    ASSERT_EQ(r.calls.size(), 1u);
    EXPECT_EQ(r.content, "Done.");
    r = parse(ToolCallFormat::Hermes,
              "<tool_call>\n{\"name\": \"now\"}\n</tool_call><tool_call>{\"name\": \"x\", "
              "\"arguments\": \"{\\\"a\\\": 1}\"}");
    ASSERT_EQ(r.calls.size(), 2u);
    EXPECT_EQ(r.calls[0].arguments, "{}");
    EXPECT_EQ(r.calls[1].arguments, "{\"a\": 1}");  // given as a string: kept as written
    // No calls at all.
    r = parse(ToolCallFormat::Hermes, "Just text with a < sign and <tool_ inside.");
    EXPECT_TRUE(r.calls.empty());
    EXPECT_EQ(r.content, "Just text with a < sign and <tool_ inside.");
}

TEST(ToolCalls, DeepSeekSeveralCallsAndContent) {
    const std::string r1_second =
        "<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_time\n```json\n{\"tz\": \"UTC\"}\n```"
        "<｜tool▁call▁end｜>";
    ToolCallResult r = parse(ToolCallFormat::DeepSeekR1,
                             "I will call two tools.<｜tool▁calls▁begin｜>" + k_r1_call + "\n" +
                                 r1_second + "<｜tool▁calls▁end｜>");
    ASSERT_EQ(r.calls.size(), 2u);
    expect_call(r.calls[0], "get_weather", {{"city", "Shenzhen"}});
    expect_call(r.calls[1], "get_time", {{"tz", "UTC"}});
    EXPECT_EQ(r.content, "I will call two tools.");

    const std::string v31_second =
        "<｜tool▁call▁begin｜>get_time<｜tool▁sep｜>{\"tz\": \"UTC\"}<｜tool▁call▁end｜>";
    r = parse(ToolCallFormat::DeepSeekV31,
              "<｜tool▁calls▁begin｜>" + k_v31_call + v31_second + "<｜tool▁calls▁end｜>");
    ASSERT_EQ(r.calls.size(), 2u);
    expect_call(r.calls[1], "get_time", {{"tz", "UTC"}});
    // Missing block end at the end of the output; a misspelled opener of the R1 distills.
    r = parse(ToolCallFormat::DeepSeekR1, "<｜tool▁calls▁begin｜>" + k_r1_call);
    ASSERT_EQ(r.calls.size(), 1u);
    r = parse(ToolCallFormat::DeepSeekR1,
              "<｜tool_calls_begin｜>" + k_r1_call + "<｜tool▁calls▁end｜>\n\nAnything else?");
    ASSERT_EQ(r.calls.size(), 1u);
    EXPECT_EQ(r.content, "Anything else?");
}

TEST(ToolCalls, Llama3) {
    ToolCallResult r =
        parse(ToolCallFormat::Llama3Json,
              "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Shenzhen\"}}");
    ASSERT_EQ(r.calls.size(), 1u);
    expect_call(r.calls[0], "get_weather", {{"city", "Shenzhen"}});
    r = parse(ToolCallFormat::Llama3Json,
              "<|python_tag|>{\"type\": \"function\", \"name\": \"a\", \"parameters\": {}}; "
              "{\"name\": \"b\", \"arguments\": {\"x\": {\"y\": \"}\"}}}");
    ASSERT_EQ(r.calls.size(), 2u);
    expect_call(r.calls[0], "a", json::object());
    expect_call(r.calls[1], "b", {{"x", {{"y", "}"}}}});
    // An answer that is not a call streams out as soon as that is clear.
    ToolCallParser p(ToolCallFormat::Llama3Json);
    EXPECT_EQ(p.push("  {"), "");
    EXPECT_EQ(p.push("\"answ"), "  {\"answ");
    EXPECT_EQ(p.push("er\": 42}"), "er\": 42}");
    EXPECT_TRUE(p.finish().calls.empty());
    r = parse(ToolCallFormat::Llama3Json, "The weather is {\"fine\": true}.");
    EXPECT_TRUE(r.calls.empty());
    EXPECT_EQ(r.content, "The weather is {\"fine\": true}.");
}

TEST(ToolCalls, MalformedCallsAreContent) {
    const std::vector<std::pair<ToolCallFormat, std::string>> bad = {
        {ToolCallFormat::Hermes,
         "Sure.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
         "}\n</tool_call>"},
        {ToolCallFormat::Hermes, "<tool_call>\n{\"arguments\": {}}\n</tool_call>"},
        {ToolCallFormat::Hermes, "<tool_call>\n{\"name\": \"f\", \"arguments\": 3}\n</tool_call>"},
        {ToolCallFormat::Hermes, k_hermes_call + "<tool_call>not json</tool_call>"},
        {ToolCallFormat::DeepSeekR1,
         "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function get_weather\n```json\n{}\n```"
         "<｜tool▁call▁end｜>"},
        {ToolCallFormat::DeepSeekR1, "<｜tool▁calls▁begin｜>" + k_r1_call.substr(0, 60)},
        {ToolCallFormat::DeepSeekV31,
         "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f<｜tool▁sep｜>[1]<｜tool▁call▁end｜>"},
        {ToolCallFormat::DeepSeekV31, "<｜tool▁calls▁begin｜>nothing"},
        {ToolCallFormat::Llama3Json, "{\"name\": \"f\", \"parameters\": 5}"},
        {ToolCallFormat::Llama3Json, "{\"name\": \"f\", \"parameters\": {"},
        {ToolCallFormat::Llama3Json, "<|python_tag|>weather.call(city=\"x\")"},
        {ToolCallFormat::Hermes, std::string("<tool_call>{\"name\": \"f\xff\"}</tool_call>")},
    };
    for (const auto& [format, text] : bad) {
        const ToolCallResult r = parse(format, text);
        EXPECT_TRUE(r.calls.empty()) << text;
        EXPECT_EQ(r.content, text);
    }
}

TEST(ToolCalls, StreamingEmitsContentUntilTheMarker) {
    ToolCallParser p(ToolCallFormat::Hermes);
    EXPECT_EQ(p.push("Checking <"), "Checking ");
    EXPECT_EQ(p.push("b>bold</b> <tool"), "<b>bold</b> ");
    EXPECT_FALSE(p.in_tool_call());
    EXPECT_EQ(p.push("_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>"), "");
    EXPECT_TRUE(p.in_tool_call());
    EXPECT_EQ(p.push(" trailing"), "");
    const ToolCallResult r = p.finish();
    ASSERT_EQ(r.calls.size(), 1u);
    EXPECT_EQ(r.content, "trailing");

    ToolCallParser none(ToolCallFormat::None);
    EXPECT_EQ(none.push("<tool_call>{}</tool_call>"), "<tool_call>{}</tool_call>");
    EXPECT_TRUE(none.finish().calls.empty());
}

TEST(ToolCalls, IdsAreDeterministicPerSeed) {
    ToolCallIdGenerator a(1), b(1), c(2);
    const std::string first = a.next();
    EXPECT_EQ(first, b.next());
    EXPECT_NE(first, c.next());
    EXPECT_NE(first, a.next());
    EXPECT_EQ(first.size(), 29u);
    for (size_t k = 5; k < first.size(); ++k)
        EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(first[k])));
}
