// Bad input never crashes: syntax errors name their line and column, malformed conversations
// and JSON are reported clearly, and hostile templates (deep recursion, runaway loops, huge
// output) stop with an error instead of exhausting stack, memory or time.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "support/fixtures.h"
#include "text/chat_template.h"

using namespace pangolin;
using namespace pangolin::test;

namespace {

std::string error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "<no error>";
}

std::string render_error(const std::string& tmpl, const jinja::Limits& limits = {}) {
    return error_of([&] {
        jinja::RenderOptions o;
        o.limits = limits;
        jinja::Template(tmpl).render({}, o);
    });
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

TEST(ChatTemplateErrors, SyntaxErrorsNameLineAndColumn) {
    std::string e =
        error_of([] { jinja::Template("line one\n{% if x %}\n  {{ foo( }}\n{% endif %}"); });
    EXPECT_TRUE(contains(e, "line 3, column 11")) << e;
    EXPECT_TRUE(contains(e, "unexpected '}', expected ')'")) << e;

    e = error_of([] { jinja::Template("{% for m in messages %}\n{{ m }}"); });
    EXPECT_TRUE(contains(e, "line 2")) << e;
    EXPECT_TRUE(contains(
        e,
        "Unexpected end of template. Jinja was looking for the following tags: 'endfor' or "
        "'else'. The innermost block that needs to be closed is 'for'."))
        << e;

    e = error_of([] { jinja::Template("ok\n\n   {% frobnicate %}"); });
    EXPECT_TRUE(contains(e, "line 3, column 7: Encountered unknown tag 'frobnicate'.")) << e;

    e = error_of([] { jinja::Template("{% if a %}{% endfor %}"); });
    EXPECT_TRUE(contains(e, "Encountered unknown tag 'endfor'")) << e;

    for (const char* bad :
         {"{{ 'unterminated }}", "{{ 1 + }}", "{% set %}", "{{ x }", "{# open comment",
          "{% raw %}no end", "{{ a.b.() }}", "{% break %}", "{{ x | }}", "{{ [1, 2 }}"}) {
        e = error_of([&] { jinja::Template{bad}; });
        EXPECT_TRUE(contains(e, "template syntax error at line 1, column ")) << bad << " -> " << e;
    }
}

TEST(ChatTemplateErrors, RuntimeErrorsNameTheirLine) {
    const std::string e = render_error("a\n{{ 'x' }}\n{{ none + 1 }}");
    EXPECT_TRUE(contains(e, "line 3")) << e;
    EXPECT_TRUE(contains(e, "unsupported operand type(s) for +: 'NoneType' and 'int'")) << e;
}

TEST(ChatTemplateErrors, MessagesMustBeAListOfRoleObjects) {
    const std::string t = "{{ messages }}";
    auto err = [&](const char* json) {
        return error_of([&] { render_chat_template(t, nlohmann::ordered_json::parse(json), {}); });
    };
    EXPECT_TRUE(
        contains(err(R"({"role": "user", "content": "hi"})"), "messages must be a JSON array"));
    EXPECT_TRUE(contains(err(R"(["hi"])"), "messages[0] must be an object"));
    EXPECT_TRUE(contains(err(R"([{"content": "hi"}])"), "messages[0] has no 'role'"));
    EXPECT_TRUE(
        contains(err(R"([{"role": "user"}, {"role": 7}])"), "messages[1].role must be a string"));
    EXPECT_TRUE(contains(err(R"([{"role": "user", "content": 5}])"),
                         "messages[0].content must be a string, null or a list of content parts"));
    EXPECT_TRUE(contains(err(R"([{"role": "user", "content": [{"text": "x"}]}])"),
                         "messages[0].content[0] must be an object with a string 'type'"));
    EXPECT_TRUE(contains(err(R"([{"role": "user", "content": [{"type": "text"}]}])"),
                         "without a string 'text'"));
    ChatTemplateOptions o;
    o.tools = {{"type", "function"}};
    EXPECT_TRUE(
        contains(error_of([&] { render_chat_template(t, nlohmann::ordered_json::array(), o); }),
                 "tools must be a JSON array"));
    // Missing content is allowed (an assistant turn with only tool calls).
    EXPECT_EQ(render_chat_template("{{ messages[0].content is defined }}",
                                   nlohmann::ordered_json::parse(R"([{"role": "assistant"}])"), {}),
              "False");
}

TEST(ChatTemplateErrors, CliReportsBadFilesClearly) {
    TempDir dir;
    write_file(dir / "t.jinja", "{% for m in messages %}{{ m.role }}{% endfor %}");
    write_file(dir / "bad.json", "[{\"role\": \"user\", ");
    write_file(dir / "obj.json", "{\"role\": \"user\"}");
    write_file(dir / "ok.json", "[{\"role\": \"user\", \"content\": \"x\"}]");
    write_file(dir / "syntax.jinja", "hello\n{{ messages[0 }}");

    auto r = run_pangolin({"template", "--chat-template", (dir / "t.jinja").string(), "--messages",
                           (dir / "bad.json").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, "bad.json: invalid JSON")) << r.err;

    r = run_pangolin({"template", "--chat-template", (dir / "t.jinja").string(), "--messages",
                      (dir / "obj.json").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, "messages must be a JSON array")) << r.err;

    r = run_pangolin({"template", "--chat-template", (dir / "syntax.jinja").string(), "--messages",
                      (dir / "ok.json").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, "template syntax error at line 2, column")) << r.err;

    r = run_pangolin({"template", "--chat-template", (dir / "missing.jinja").string(), "--messages",
                      (dir / "ok.json").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, "cannot read")) << r.err;

    r = run_pangolin({"template", "--chat-template", (dir / "t.jinja").string(), "--messages",
                      (dir / "ok.json").string(), "--tools", (dir / "bad.json").string()});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(contains(r.err, "invalid JSON")) << r.err;

    r = run_pangolin({"template", "--chat-template", (dir / "t.jinja").string(), "--messages",
                      (dir / "ok.json").string()});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "user");  // no newline added
}

TEST(ChatTemplateErrors, DeepRecursionStopsWithAnError) {
    EXPECT_TRUE(contains(render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
                         "recursion deeper than"));
    EXPECT_TRUE(contains(
        render_error("{% set t = [1] %}{% for x in t recursive %}{{ loop([x]) }}{% endfor %}"),
        "recursion deeper than"));
    // Nesting in the source is refused by the parser before it can exhaust the stack.
    const std::string parens =
        "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
    EXPECT_TRUE(contains(error_of([&] { jinja::Template{parens}; }), "nested more than"))
        << error_of([&] { jinja::Template{parens}; });
    std::string ifs;
    for (int i = 0; i < 1000; ++i) ifs += "{% if true %}";
    EXPECT_TRUE(contains(error_of([&] { jinja::Template{ifs}; }), "nested more than"));
    std::string nots = "{{ ";
    for (int i = 0; i < 5000; ++i) nots += "not ";
    EXPECT_TRUE(contains(error_of([&] { jinja::Template{nots + "x }}"}; }), "nested more than"));
}

TEST(ChatTemplateErrors, RunawayLoopsAndOutputStop) {
    jinja::Limits few_steps;
    few_steps.max_steps = 200000;
    EXPECT_TRUE(contains(
        render_error(
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            few_steps),
        "evaluation steps"));
    jinja::Limits small;
    small.max_output_bytes = 1 << 20;
    EXPECT_TRUE(
        contains(render_error("{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}", small),
                 "larger than the limit"));
    EXPECT_TRUE(contains(render_error("{{ 'x' * 100000000000 }}", small), "larger than the limit"));
    EXPECT_TRUE(contains(render_error("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% "
                                      "set ns.s = ns.s ~ ns.s %}{% endfor %}",
                                      small),
                         "larger than the limit"));
    EXPECT_TRUE(contains(render_error("{{ range(10**9)|length }}"), "Range too big"));

    // The default limits stop a quadratic loop within seconds.
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(contains(
        render_error(
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"),
        "evaluation steps"));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST(ChatTemplateErrors, CyclesAndDeepValuesAreSafe) {
    // A list may not contain itself; a namespace may (its attributes are dropped after rendering).
    EXPECT_TRUE(
        contains(render_error("{% set l = [] %}{% set _ = l.append(l) %}"), "contain itself"));
    EXPECT_EQ(
        jinja::Template("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns.me.me is defined }}")
            .render({}),
        "True");
    // 100000 levels of nesting: counting, printing and destroying it do not overflow the stack.
    const std::string deep =
        "{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% "
        "endfor %}";
    EXPECT_EQ(jinja::Template(deep + "{{ ns.x|length }}").render({}), "1");
    EXPECT_TRUE(contains(render_error(deep + "{{ ns.x }}"), "nested more than"));
    EXPECT_TRUE(contains(render_error(deep + "{{ ns.x|tojson }}"), "nested more than"));
    // Deeply nested JSON input is refused, not recursed into.
    const std::string json =
        "[{\"role\": \"user\", \"x\": " + std::string(2000, '[') + std::string(2000, ']') + "}]";
    EXPECT_TRUE(contains(
        error_of([&] { render_chat_template("x", nlohmann::ordered_json::parse(json), {}); }),
        "nested more than"));
}

TEST(ChatTemplateErrors, InvalidUtf8TemplateIsRefused) {
    EXPECT_TRUE(contains(error_of([] { jinja::Template("ok \xff\xfe"); }), "not valid UTF-8"));
}
