// Chat templates against ../shared/fixtures/templates: conversations rendered by Python Jinja2
// exactly as Hugging Face's apply_chat_template does. Every case must match byte for byte, or
// fail with the template's own raise_exception message where the case gives expected_error.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <thread>

#include "support/fixtures.h"
#include "text/chat_template.h"

using namespace pangolin;
using namespace pangolin::test;

namespace {

constexpr const char* k_fixture_date = "2026-07-01";  // strftime_now in cases.json

std::filesystem::path templates_dir() {
    return shared_dir() / "fixtures" / "templates";
}

nlohmann::ordered_json load_cases() {
    // ordered_json: tools must print their keys in the order the fixture wrote them.
    return nlohmann::ordered_json::parse(read_file(templates_dir() / "cases.json"));
}

ChatTemplateOptions options_for(const nlohmann::ordered_json& c) {
    ChatTemplateOptions o;
    if (c.contains("tools")) o.tools = c["tools"];
    o.add_generation_prompt = c.value("add_generation_prompt", false);
    o.bos_token = c.value("bos_token", "");
    o.eos_token = c.value("eos_token", "");
    o.date = k_fixture_date;
    return o;
}

std::string case_name(const nlohmann::ordered_json& c) {
    return c["template"].get<std::string>() + " / " + c["conversation"].get<std::string>() +
           (c.value("add_generation_prompt", false) ? " / generation prompt" : "");
}

}  // namespace

TEST(ChatTemplateFixtures, EveryCaseRendersExactly) {
    PANGOLIN_REQUIRE_SHARED();
    const auto cases = load_cases()["cases"];
    ASSERT_EQ(cases.size(), 96u);
    int passed = 0;
    for (const auto& c : cases) {
        SCOPED_TRACE(case_name(c));
        const std::string text = read_file(templates_dir() / c["template"].get<std::string>());
        if (c.contains("expected_error")) {
            try {
                render_chat_template(text, c["messages"], options_for(c));
                ADD_FAILURE() << "rendered instead of raising";
            } catch (const jinja::RaisedError& e) {
                EXPECT_EQ(std::string(e.what()), c["expected_error"].get<std::string>());
                passed += std::string(e.what()) == c["expected_error"].get<std::string>();
            }
            continue;
        }
        const std::string out = render_chat_template(text, c["messages"], options_for(c));
        EXPECT_EQ(out, c["expected"].get<std::string>());
        passed += out == c["expected"].get<std::string>();
    }
    EXPECT_EQ(passed, 96);
}

TEST(ChatTemplateFixtures, CliRendersCasesByteExact) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    const auto cases = load_cases()["cases"];
    // Every eighth case (each template, several conversations) and every tool-calling one.
    int checked = 0;
    for (size_t i = 0; i < cases.size(); ++i) {
        const auto& c = cases[i];
        if (i % 8 != 0 && c["conversation"] != "tools_call") continue;
        const std::string tmpl = c["template"];
        SCOPED_TRACE(case_name(c));
        write_file(dir / "messages.json", c["messages"].dump());
        std::vector<std::string> args = {"template",
                                         "--chat-template",
                                         (templates_dir() / tmpl).string(),
                                         "--messages",
                                         (dir / "messages.json").string(),
                                         "--bos",
                                         c["bos_token"],
                                         "--eos",
                                         c["eos_token"],
                                         "--date",
                                         k_fixture_date};
        if (c.contains("tools")) {
            write_file(dir / "tools.json", c["tools"].dump());
            args.insert(args.end(), {"--tools", (dir / "tools.json").string()});
        }
        if (c["add_generation_prompt"].get<bool>()) args.push_back("--add-generation-prompt");
        const auto r = run_pangolin(args);
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(r.out, c["expected"].get<std::string>());
        EXPECT_EQ(r.err, "");
        ++checked;
    }
    EXPECT_GE(checked, 24);
}

TEST(ChatTemplateFixtures, CliPrintsTheTemplatesOwnError) {
    PANGOLIN_REQUIRE_SHARED();
    TempDir dir;
    // Llama 3.1 raises for an assistant turn with two tool calls.
    write_file(dir / "messages.json", R"([
        {"role": "user", "content": "Weather in Rome and Paris?"},
        {"role": "assistant", "tool_calls": [
            {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Rome"}}},
            {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}])");
    const auto r =
        run_pangolin({"template", "--chat-template",
                      (templates_dir() / "meta-llama-Llama-3.1-8B-Instruct.jinja").string(),
                      "--messages", (dir / "messages.json").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("This model only supports single tool-calls at once!"), std::string::npos)
        << r.err;

    // The library reports exactly the template's message.
    try {
        render_chat_template(read_file(templates_dir() / "meta-llama-Llama-3.1-8B-Instruct.jinja"),
                             nlohmann::ordered_json::parse(read_file(dir / "messages.json")), {});
        ADD_FAILURE() << "rendered instead of raising";
    } catch (const jinja::RaisedError& e) {
        EXPECT_STREQ(e.what(), "This model only supports single tool-calls at once!");
    }
}

TEST(ChatTemplate, ChatTemplateKwargsReachTheTemplate) {
    PANGOLIN_REQUIRE_SHARED();
    const auto cases = load_cases()["cases"];
    for (const auto& c : cases) {
        if (c["conversation"] != "user_only" || !c["add_generation_prompt"].get<bool>()) continue;
        const std::string tmpl = c["template"];
        const std::string text = read_file(templates_dir() / tmpl);
        const std::string base = c["expected"];
        auto opts = options_for(c);
        if (tmpl == "Qwen-Qwen3-0.6B.jinja") {
            // `enable_thinking is false` closes an empty think block after the assistant header.
            opts.extra = {{"enable_thinking", false}};
            EXPECT_EQ(render_chat_template(text, c["messages"], opts),
                      base + "<think>\n\n</think>\n\n");
        } else if (tmpl == "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja") {
            // `not enable_thinking` appends "</think>" (as in the fixture, where it is undefined).
            ASSERT_EQ(base.substr(base.size() - 8), "</think>");
            opts.extra = {{"enable_thinking", true}};
            EXPECT_EQ(render_chat_template(text, c["messages"], opts),
                      base.substr(0, base.size() - 8));
        }
    }
}

TEST(ChatTemplate, StrftimeNowSeesTheGivenDate) {
    ChatTemplateOptions o;
    o.date = "2026-07-01";
    const auto msgs = nlohmann::ordered_json::array();
    EXPECT_EQ(render_chat_template("{{ strftime_now('%d %b %Y, %A') }}", msgs, o),
              "01 Jul 2026, Wednesday");
    o.date = "2024-02-29T13:05:09";
    EXPECT_EQ(render_chat_template("{{ strftime_now('%Y-%m-%d %H:%M:%S %j') }}", msgs, o),
              "2024-02-29 13:05:09 060");
    o.date = "2026-02-30";
    EXPECT_THROW(render_chat_template("x", msgs, o), Error);
    o.date = "";
    EXPECT_EQ(render_chat_template("{{ strftime_now('%Y')|length }}", msgs, o), "4");
}

TEST(ChatTemplate, VariablesAsHuggingFacePassesThem) {
    const auto msgs = nlohmann::ordered_json::parse(R"([{"role": "user", "content": "hi"}])");
    ChatTemplateOptions o;
    o.bos_token = "<s>";
    o.eos_token = "</s>";
    // tools and documents are None when absent; bos/eos strings; add_generation_prompt a bool.
    EXPECT_EQ(render_chat_template(
                  "{{ tools is none }}{{ documents is none }}{{ bos_token }}{{ eos_token }}"
                  "{{ add_generation_prompt }}",
                  msgs, o),
              "TrueTrue<s></s>False");
    o.tools = nlohmann::ordered_json::parse(
        R"([{"type": "function", "function": {"name": "f", "b": 1, "a": 2}}])");
    EXPECT_EQ(render_chat_template("{{ tools[0]|tojson }}", msgs, o),
              R"({"type": "function", "function": {"name": "f", "b": 1, "a": 2}})");
    o.extra = {{"bos_token", "<bos>"}, {"custom", {1, 2}}};
    EXPECT_EQ(render_chat_template("{{ bos_token }}{{ custom }}", msgs, o), "<bos>[1, 2]");
    o.extra = {{"messages", 1}};
    EXPECT_THROW(render_chat_template("x", msgs, o), Error);
}

TEST(ChatTemplate, ContentPartsPassThrough) {
    const auto msgs = nlohmann::ordered_json::parse(R"([
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "u"}}]},
        {"role": "assistant", "content": null, "tool_calls": []}])");
    const std::string t =
        "{% for m in messages %}{{ m.role }}:{% if m.content is string %}{{ m.content }}{% elif "
        "m.content %}"
        "{% for p in m.content %}{{ p.type }}={{ p.text if p.type == 'text' else p.image_url.url "
        "}};{% endfor %}"
        "{% else %}{{ m.content }}{% endif %}|{% endfor %}";
    EXPECT_EQ(render_chat_template(t, msgs, {}), "user:text=a;image_url=u;|assistant:None|");
}

TEST(ChatTemplate, RendersConcurrentlyFromOneParse) {
    PANGOLIN_REQUIRE_SHARED();
    const auto cases = load_cases()["cases"];
    const ChatTemplate tmpl(read_file(templates_dir() / "Qwen-Qwen3-0.6B.jinja"));
    std::vector<nlohmann::ordered_json> mine;
    for (const auto& c : cases)
        if (c["template"] == "Qwen-Qwen3-0.6B.jinja") mine.push_back(c);
    std::vector<int> ok(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int rep = 0; rep < 5; ++rep)
                for (const auto& c : mine)
                    ok[static_cast<size_t>(t)] +=
                        tmpl.render(c["messages"], options_for(c)) == c["expected"];
        });
    }
    for (auto& th : threads) th.join();
    for (int n : ok) EXPECT_EQ(n, static_cast<int>(mine.size()) * 5);
}
