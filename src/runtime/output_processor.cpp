#include "runtime/output_processor.h"

#include "core/error.h"
#include "text/json_constraint.h"
#include "text/reasoning.h"
#include "text/tool_calls.h"

namespace pangolin {

namespace {

using json = nlohmann::json;

// A forced tool call (tool_choice "required" or a named function) is generated as JSON under
// a schema, as vLLM does: the named function's parameters, or a non-empty list of
// {"name", "parameters"} objects for "required".
json forced_tool_schema(const ojson& tools, const ToolChoice& choice) {
    auto params = [](const ojson& fn) {
        if (fn.contains("parameters") && fn["parameters"].is_object())
            return json(fn["parameters"]);
        return json{{"type", "object"}};
    };
    if (choice.mode == ToolChoice::Mode::Named) {
        for (const auto& t : tools)
            if (t["function"]["name"] == choice.name) return params(t["function"]);
    }
    json any = json::array();
    for (const auto& t : tools)
        any.push_back({{"type", "object"},
                       {"properties",
                        {{"name", {{"const", t["function"]["name"]}}},
                         {"parameters", params(t["function"])}}},
                       {"required", {"name", "parameters"}}});
    return {{"type", "array"}, {"minItems", 1}, {"items", {{"anyOf", any}}}};
}

bool forced_tools(const OutputProcessorOptions& o) {
    return o.chat && !o.tools.is_null() &&
           (o.tool_choice.mode == ToolChoice::Mode::Required ||
            o.tool_choice.mode == ToolChoice::Mode::Named);
}

}  // namespace

// The engine-thread side of a constrained choice: the JSON constraint applies once the
// model's reasoning (if any) is over.
struct ConstraintState {
    std::shared_ptr<JsonConstraint> constraint;
    StreamDecoder decoder;
    ReasoningSplitter splitter;
    bool active;
    // When the prompt opened a reasoning block, the model finishes reasoning unconstrained;
    // otherwise the constraint holds from the first token (JSON leaves no room for <think>).
    ConstraintState(std::shared_ptr<JsonConstraint> c, const Tokenizer& tok,
                    const ReasoningFormat& f)
        : constraint(std::move(c)),
          decoder(tok),
          splitter(f),
          active(!(f.enabled() && f.starts_in_reasoning)) {}
};

struct OutputProcessor::Parsers {
    ReasoningFormat reasoning_format;
    std::unique_ptr<ReasoningSplitter> reasoning;
    std::unique_ptr<ToolCallParser> tools;
    bool forced_tools = false;
    std::shared_ptr<ConstraintState> constraint;
};

OutputProcessor::OutputProcessor(const Tokenizer& tokenizer, const OutputProcessorOptions& options)
    : tokenizer_(tokenizer),
      options_(options),
      decoder_(tokenizer),
      stop_(options.stop),
      parsers_(std::make_unique<Parsers>()) {
    Parsers& p = *parsers_;
    if (options.chat) {
        p.reasoning_format = detect_reasoning_format(tokenizer, options.prompt_text);
        if (p.reasoning_format.enabled())
            p.reasoning = std::make_unique<ReasoningSplitter>(p.reasoning_format);
        p.forced_tools = forced_tools(options);
        if (!options.tools.is_null() && options.tool_choice.mode == ToolChoice::Mode::Auto) {
            const ToolCallFormat f = detect_tool_call_format(options.chat_template);
            if (f != ToolCallFormat::None)
                p.tools = std::make_unique<ToolCallParser>(
                    f, std::hash<std::string>{}(options.prompt_text));
        }
    }
    json schema;
    bool constrained = false;
    if (p.forced_tools) {
        schema = forced_tool_schema(options.tools, options.tool_choice);
        constrained = true;
    } else if (options.response_format == "json_object") {
        constrained = true;  // null schema: any JSON object
    } else if (options.response_format == "json_schema") {
        schema = json(options.json_schema);
        constrained = true;
    }
    if (constrained) {
        // Error (→ HTTP 400) for a schema the constraint cannot enforce
        auto c = JsonConstraint::from_schema(schema, tokenizer);
        p.constraint =
            std::make_shared<ConstraintState>(std::move(c), tokenizer, p.reasoning_format);
    }
}

OutputProcessor::~OutputProcessor() = default;

std::function<void(float*, int64_t)> OutputProcessor::logits_processor() {
    auto c = parsers_->constraint;
    if (!c) return nullptr;
    return [c](float* logits, int64_t n_vocab) {
        if (c->active) c->constraint->apply(logits, n_vocab);
    };
}

std::function<void(int32_t)> OutputProcessor::token_acceptor() {
    auto c = parsers_->constraint;
    if (!c) return nullptr;
    return [c](int32_t token) {
        if (c->active) {
            c->constraint->accept(token);
            return;
        }
        const ReasoningDelta d = c->splitter.push(c->decoder.push(token));
        if (!c->splitter.in_reasoning()) {
            c->active = true;
            if (!d.content.empty()) c->constraint->accept_bytes(d.content);
        }
    };
}

OutputDelta OutputProcessor::route(const std::string& text, bool final) {
    Parsers& p = *parsers_;
    OutputDelta d;
    ReasoningDelta rd;
    if (p.reasoning) {
        rd = p.reasoning->push(text);
        if (final) {
            const ReasoningDelta rest = p.reasoning->flush();
            rd.reasoning += rest.reasoning;
            rd.content += rest.content;
        }
    } else {
        rd.content = text;
    }
    d.reasoning = rd.reasoning;
    result_.reasoning += rd.reasoning;
    if (p.reasoning) result_.has_reasoning = true;

    if (p.forced_tools) {
        // held until the end: the whole output is the JSON of the call(s)
        result_.content += rd.content;
        if (!final) return d;
        const std::string all = std::move(result_.content);
        result_.content.clear();
        json calls = json::array();
        try {
            const json v = json::parse(all);
            if (options_.tool_choice.mode == ToolChoice::Mode::Named) {
                calls.push_back({{"name", options_.tool_choice.name}, {"arguments", v.dump()}});
            } else {
                for (const auto& c : v)
                    calls.push_back(
                        {{"name", c.at("name")}, {"arguments", c.at("parameters").dump()}});
            }
        } catch (const std::exception&) {
            result_.content = all;  // cut short (max_tokens): return the text as is
            d.content = all;
            return d;
        }
        ToolCallIdGenerator ids(std::hash<std::string>{}(options_.prompt_text));
        for (size_t i = 0; i < calls.size(); ++i) {
            const std::string id = ids.next();
            const json fn = {{"name", calls[i]["name"]}, {"arguments", calls[i]["arguments"]}};
            result_.tool_calls.push_back({{"id", id}, {"type", "function"}, {"function", fn}});
            d.tool_calls.push_back(
                {{"index", i}, {"id", id}, {"type", "function"}, {"function", fn}});
        }
        return d;
    }
    if (p.tools) {
        std::string content = p.tools->push(rd.content);
        if (final) {
            const ToolCallResult r = p.tools->finish();
            content += r.content;
            for (size_t i = 0; i < r.calls.size(); ++i) {
                const json fn = {{"name", r.calls[i].name}, {"arguments", r.calls[i].arguments}};
                result_.tool_calls.push_back(
                    {{"id", r.calls[i].id}, {"type", "function"}, {"function", fn}});
                d.tool_calls.push_back(
                    {{"index", i}, {"id", r.calls[i].id}, {"type", "function"}, {"function", fn}});
            }
        }
        d.content = content;
    } else {
        d.content = rd.content;
    }
    result_.content += d.content;
    return d;
}

OutputDelta OutputProcessor::push(int32_t token) {
    if (stop_.stopped()) return {};
    return route(stop_.push(decoder_.push(token)), false);
}

OutputDelta OutputProcessor::finish() {
    std::string rest = stop_.stopped() ? "" : stop_.push(decoder_.flush());
    rest += stop_.flush();
    return route(rest, true);
}

}  // namespace pangolin
