// The evaluator: runs a parsed template against variables, with Jinja2's scoping (every loop
// iteration, macro call and `with` block opens a scope; `set` writes to the innermost one)
// and limits that keep hostile templates from exhausting stack, memory or time.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "text/jinja/ast.h"
#include "text/jinja/lexer.h"
#include "text/jinja/value.h"

namespace pangolin::jinja {

// Thrown by raise_exception(): what() is exactly the template's message.
class RaisedError : public Error {
  public:
    using Error::Error;
};

struct Limits {
    size_t max_output_bytes = size_t{64}
                              << 20;  // the rendering, and any one string built on the way
    int max_depth = 400;              // nesting of expressions, blocks and macro calls
    uint64_t max_steps = 10'000'000;  // expressions evaluated + statements run (~1 s)
};

struct Frame {
    std::vector<std::pair<std::string, Value>> vars;
    std::shared_ptr<Frame> parent;

    const Value* find(std::string_view name) const;  // this frame, then its parents
    void set(std::string_view name, Value v);        // this frame only
};
using FramePtr = std::shared_ptr<Frame>;

// A scope inside `parent` whose `locals` start undefined (see scope.h).
FramePtr child_frame(const FramePtr& parent, const std::vector<std::string>& locals);

class Interp {
  public:
    Interp(const Source& src, const Limits& limits, const std::tm& now);
    ~Interp();
    Interp(const Interp&) = delete;
    Interp& operator=(const Interp&) = delete;

    // Renders `body` with `root` as the outermost scope. Runtime errors name their line.
    std::string render(const Body& body, const FramePtr& root);

    // For builtins.
    Value call(const Value& callee, Args& args);
    Value filter(const std::string& name, Value input, Args& args);
    bool test(const std::string& name, const Value& v, Args& args);
    void check_size(size_t bytes) const;  // throws when a string or list would pass the limit
    void tick();                          // one unit of work against Limits::max_steps
    const std::tm& now() const { return now_; }
    // Objects that may take part in reference cycles (namespaces, macros, loops); their
    // contents are dropped when rendering ends.
    void track(const Value& v) { tracked_.push_back(v); }

  private:
    enum class Flow { Normal, Break, Continue };

    struct DepthScope {
        Interp& in;
        explicit DepthScope(Interp& i);
        ~DepthScope() { --in.depth_; }
    };

    const Source& src_;
    Limits limits_;
    std::tm now_;
    std::string* out_ = nullptr;
    int depth_ = 0;
    uint64_t steps_ = 0;
    const Value* block_input_ = nullptr;  // the body of a filter block / filtered set block
    std::vector<Value> tracked_;

    void emit(std::string_view s);
    Flow exec_body(const Body& body, const FramePtr& frame);
    Flow exec(const Node& n, const FramePtr& frame);
    Flow exec_for(const Node& n, const FramePtr& frame);
    Flow run_loop(const Node& n, const Value& iterable, const FramePtr& frame, int depth);
    void exec_set(const Expr& target, Value v, const FramePtr& frame);
    std::pair<std::string, Flow> capture(const Body& body, const FramePtr& frame);
    Value make_macro(const std::shared_ptr<MacroDef>& def, const FramePtr& closure);
    Value apply_filter_chain(const Expr& chain, Value input, const FramePtr& frame);

    Value eval(const Expr& e, const FramePtr& frame);
    Value eval_inner(const Expr& e, const FramePtr& frame);
    Value eval_compare(const Expr& e, const FramePtr& frame);
    Args eval_args(const CallArgs& a, const FramePtr& frame);
    Value lookup(const std::string& name, const FramePtr& frame) const;
};

}  // namespace pangolin::jinja
