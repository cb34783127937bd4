#include "text/jinja/parser.h"

#include <algorithm>

#include "core/error.h"
#include "text/jinja/parser_expr.h"

namespace pangolin::jinja {

namespace {

class Parser : public ExprParser {
  public:
    using ExprParser::ExprParser;

    Body parse_template() {
        Body body = subparse({});
        return body;
    }

  private:
    int loop_depth_ = 0;
    std::vector<std::vector<std::string>> end_stack_;  // tags that close each open block
    std::vector<std::string> tag_stack_;               // the open blocks, innermost last

    static std::string quoted_list(const std::vector<std::string>& names) {
        std::string s;
        for (size_t k = 0; k < names.size(); ++k) s += (k ? " or '" : "'") + names[k] + "'";
        return s;
    }

    [[noreturn]] void fail_unknown(const Token& at, const std::string* name) const {
        std::string msg =
            name ? "Encountered unknown tag '" + *name + "'." : "Unexpected end of template.";
        if (!end_stack_.empty()) {
            bool expected = false;
            for (const auto& ends : end_stack_)
                if (name && std::find(ends.begin(), ends.end(), *name) != ends.end())
                    expected = true;
            if (expected)
                msg +=
                    " You probably made a nesting mistake. Jinja is expecting this tag, but "
                    "currently looking for " +
                    quoted_list(end_stack_.back()) + ".";
            else
                msg +=
                    " Jinja was looking for the following tags: " + quoted_list(end_stack_.back()) +
                    ".";
        }
        if (!tag_stack_.empty())
            msg += " The innermost block that needs to be closed is '" + tag_stack_.back() + "'.";
        error(at, msg);
    }

    static std::unique_ptr<Node> node(NodeKind k, uint32_t pos) {
        auto n = std::make_unique<Node>();
        n->kind = k;
        n->pos = pos;
        return n;
    }

    // ---- statements ----

    Body subparse(const std::vector<std::string>& end_names) {
        Body body;
        while (true) {
            const Token& t = cur();
            switch (t.type) {
                case Tok::Data: {
                    auto n = node(NodeKind::Text, t.pos);
                    n->text = t.text;
                    body.push_back(std::move(n));
                    advance();
                    break;
                }
                case Tok::VarBegin: {
                    advance();
                    auto n = node(NodeKind::Output, t.pos);
                    n->expr = parse_tuple(false, true, nullptr);
                    expect(Tok::VarEnd, "end of print statement");
                    body.push_back(std::move(n));
                    break;
                }
                case Tok::BlockBegin: {
                    advance();
                    if (cur().type == Tok::Name && std::find(end_names.begin(), end_names.end(),
                                                             cur().text) != end_names.end())
                        return body;
                    body.push_back(parse_statement());
                    break;
                }
                case Tok::Eof:
                    if (!end_names.empty()) fail_unknown(t, nullptr);
                    return body;
                default:
                    error(t, "unexpected " + describe(t));
            }
        }
    }

    // After the tag header: "%}", the body up to one of end_names (consumed when drop_needle).
    Body parse_statements(const std::vector<std::string>& end_names, bool drop_needle) {
        skip_op(":");
        expect_block_end();
        end_stack_.push_back(end_names);
        Body body = subparse(end_names);
        end_stack_.pop_back();
        if (drop_needle) advance();
        return body;
    }

    std::unique_ptr<Node> parse_statement() {
        const Token& t = cur();
        if (t.type != Tok::Name) error(t, "tag name expected");
        DepthGuard guard(*this, t);
        const std::string name = t.text;
        static const char* const tags[] = {"for",    "if",   "set",   "macro",     "call",
                                           "filter", "with", "block", "generation"};
        const bool pushes = std::find(std::begin(tags), std::end(tags), name) != std::end(tags);
        if (pushes) tag_stack_.push_back(name);
        std::unique_ptr<Node> n;
        if (name == "for")
            n = parse_for();
        else if (name == "if")
            n = parse_if();
        else if (name == "set")
            n = parse_set();
        else if (name == "macro")
            n = parse_macro();
        else if (name == "call")
            n = parse_call_block();
        else if (name == "filter")
            n = parse_filter_block();
        else if (name == "with")
            n = parse_with();
        else if (name == "block" || name == "generation")
            n = parse_scope(name);
        else if (name == "break" || name == "continue") {
            if (loop_depth_ == 0) error(t, "'" + name + "' outside of a for loop");
            n = node(name == "break" ? NodeKind::Break : NodeKind::Continue, t.pos);
            advance();
            expect_block_end();
        } else if (name == "include" || name == "import" || name == "extends" || name == "from") {
            error(t, "the '" + name + "' tag is not supported: a chat template is a single file");
        } else {
            fail_unknown(t, &name);
        }
        if (pushes) tag_stack_.pop_back();
        return n;
    }

    std::unique_ptr<Node> parse_for() {
        auto n = node(NodeKind::For, cur().pos);
        advance();
        n->target = parse_assign_target(true, false, "in");
        if (!skip_name("in")) error(cur(), "expected token 'in', got " + describe(cur()));
        n->expr = parse_tuple(false, false, "recursive");
        if (skip_name("if")) n->cond = parse_expression(true);
        n->recursive = skip_name("recursive");
        ++loop_depth_;
        n->body = parse_statements({"endfor", "else"}, false);
        --loop_depth_;
        const bool has_else = cur().text == "else";
        advance();
        if (has_else) n->else_body = parse_statements({"endfor"}, true);
        expect_block_end();
        return n;
    }

    std::unique_ptr<Node> parse_if() {
        auto n = node(NodeKind::If, cur().pos);
        advance();
        while (true) {
            ExprPtr cond = parse_tuple(false, false, nullptr);
            Body body = parse_statements({"elif", "else", "endif"}, false);
            n->branches.emplace_back(std::move(cond), std::move(body));
            const std::string tag = cur().text;
            advance();
            if (tag == "elif") continue;
            if (tag == "else") n->branches.emplace_back(nullptr, parse_statements({"endif"}, true));
            break;
        }
        expect_block_end();
        return n;
    }

    std::unique_ptr<Node> parse_set() {
        const uint32_t pos = cur().pos;
        advance();
        ExprPtr target = parse_assign_target(true, true, nullptr);
        if (skip_op("=")) {
            auto n = node(NodeKind::Set, pos);
            n->target = std::move(target);
            n->expr = parse_tuple(false, true, nullptr);
            expect_block_end();
            return n;
        }
        auto n = node(NodeKind::SetBlock, pos);
        n->target = std::move(target);
        n->expr = parse_filter(nullptr, false);
        n->body = parse_statements({"endset"}, true);
        expect_block_end();
        return n;
    }

    std::vector<std::pair<std::string, ExprPtr>> parse_signature() {
        std::vector<std::pair<std::string, ExprPtr>> params;
        expect_op("(");
        while (!is_op(")")) {
            if (!params.empty()) expect_op(",");
            const Token& at = cur();
            std::string pname = expect_name();
            ExprPtr def;
            if (skip_op("="))
                def = parse_expression(true);
            else if (!params.empty() && params.back().second)
                error(at, "non-default argument follows default argument");
            params.emplace_back(std::move(pname), std::move(def));
        }
        advance();
        return params;
    }

    std::unique_ptr<Node> parse_macro() {
        auto n = node(NodeKind::Macro, cur().pos);
        advance();
        n->macro = std::make_shared<MacroDef>();
        n->macro->name = expect_name();
        n->macro->params = parse_signature();
        const int saved = loop_depth_;
        loop_depth_ = 0;
        n->macro->body = parse_statements({"endmacro"}, true);
        loop_depth_ = saved;
        expect_block_end();
        return n;
    }

    std::unique_ptr<Node> parse_call_block() {
        auto n = node(NodeKind::CallBlock, cur().pos);
        advance();
        n->macro = std::make_shared<MacroDef>();
        n->macro->name = "caller";
        if (is_op("(")) n->macro->params = parse_signature();
        const Token& at = cur();
        n->expr = parse_expression(true);
        if (n->expr->kind != ExprKind::Call) error(at, "expected call");
        const int saved = loop_depth_;
        loop_depth_ = 0;
        n->macro->body = parse_statements({"endcall"}, true);
        loop_depth_ = saved;
        expect_block_end();
        return n;
    }

    std::unique_ptr<Node> parse_filter_block() {
        auto n = node(NodeKind::FilterBlock, cur().pos);
        advance();
        n->expr = parse_filter(nullptr, true);
        n->body = parse_statements({"endfilter"}, true);
        expect_block_end();
        return n;
    }

    std::unique_ptr<Node> parse_with() {
        auto n = node(NodeKind::With, cur().pos);
        advance();
        while (cur().type != Tok::BlockEnd) {
            if (!n->assigns.empty()) expect_op(",");
            ExprPtr target = parse_assign_target(true, false, nullptr);
            expect_op("=");
            n->assigns.emplace_back(std::move(target), parse_expression(true));
        }
        n->body = parse_statements({"endwith"}, true);
        expect_block_end();
        return n;
    }

    std::unique_ptr<Node> parse_scope(const std::string& tag) {
        auto n = node(NodeKind::Scope, cur().pos);
        advance();
        if (tag == "block") {
            n->text = expect_name();
            skip_name("scoped");
            skip_name("required");
        }
        n->body = parse_statements({"end" + tag}, true);
        if (tag == "block" && cur().type == Tok::Name) {
            if (cur().text != n->text) error(cur(), "mismatching name in endblock");
            advance();
        }
        expect_block_end();
        return n;
    }
};

}  // namespace

Body parse(const Source& src) {
    return Parser(src, tokenize(src)).parse_template();
}

}  // namespace pangolin::jinja
