#include "text/jinja/interp.h"

#include <algorithm>
#include <optional>

#include "text/jinja/builtins.h"

namespace pangolin::jinja {

namespace {

// A runtime error that already names its place in the template.
class LocatedError : public Error {
  public:
    using Error::Error;
};

}  // namespace

const Value* Frame::find(std::string_view name) const {
    for (const Frame* f = this; f; f = f->parent.get())
        for (const auto& [k, v] : f->vars)
            if (k == name) return &v;
    return nullptr;
}

void Frame::set(std::string_view name, Value v) {
    for (auto& [k, x] : vars) {
        if (k == name) {
            x = std::move(v);
            return;
        }
    }
    vars.emplace_back(std::string(name), std::move(v));
}

FramePtr child_frame(const FramePtr& parent, const std::vector<std::string>& locals) {
    auto f = std::make_shared<Frame>();
    f->parent = parent;
    f->vars.reserve(locals.size());
    for (const auto& name : locals)
        f->vars.emplace_back(name, Value::undefined("'" + name + "' is undefined"));
    return f;
}

Interp::DepthScope::DepthScope(Interp& i) : in(i) {
    if (++in.depth_ > in.limits_.max_depth) {
        --in.depth_;
        fail("template nesting or recursion deeper than ", in.limits_.max_depth, " levels");
    }
}

Interp::Interp(const Source& src, const Limits& limits, const std::tm& now)
    : src_(src), limits_(limits), now_(now) {}

Interp::~Interp() {
    // Break reference cycles (a macro's scope holds the macro; a namespace can hold itself).
    for (Value& v : tracked_) {
        if (v.kind() == Kind::Callable) {
            v.fn().fn = nullptr;
        } else if (v.is_object()) {
            v.object().call = nullptr;
            std::vector<std::pair<std::string, Value>> attrs;
            attrs.swap(v.object().attrs);
        }
    }
}

void Interp::tick() {
    if (++steps_ > limits_.max_steps)
        fail("template did not finish within ", limits_.max_steps, " evaluation steps");
}

void Interp::check_size(size_t bytes) const {
    if (bytes > limits_.max_output_bytes)
        fail("template output or value larger than the limit of ", limits_.max_output_bytes,
             " bytes");
}

void Interp::emit(std::string_view s) {
    check_size(out_->size() + s.size());
    out_->append(s);
}

std::string Interp::render(const Body& body, const FramePtr& root) {
    std::string out;
    out_ = &out;
    exec_body(body, root);
    out_ = nullptr;
    return out;
}

Interp::Flow Interp::exec_body(const Body& body, const FramePtr& frame) {
    for (const auto& n : body) {
        const Flow f = exec(*n, frame);
        if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
}

std::pair<std::string, Interp::Flow> Interp::capture(const Body& body, const FramePtr& frame) {
    std::string buf;
    std::string* saved = out_;
    out_ = &buf;
    Flow f;
    try {
        f = exec_body(body, frame);
    } catch (...) {
        out_ = saved;
        throw;
    }
    out_ = saved;
    return {std::move(buf), f};
}

Interp::Flow Interp::exec(const Node& n, const FramePtr& frame) {
    try {
        DepthScope depth(*this);
        tick();
        switch (n.kind) {
            case NodeKind::Text:
                emit(n.text);
                return Flow::Normal;
            case NodeKind::Output: {
                const Value v = eval(*n.expr, frame);
                if (v.is_string())
                    emit(v.str());
                else
                    emit(to_str(v));
                return Flow::Normal;
            }
            case NodeKind::If:
                for (const auto& [cond, body] : n.branches)
                    if (!cond || truthy(eval(*cond, frame))) return exec_body(body, frame);
                return Flow::Normal;
            case NodeKind::For:
                return exec_for(n, frame);
            case NodeKind::Set:
                exec_set(*n.target, eval(*n.expr, frame), frame);
                return Flow::Normal;
            case NodeKind::SetBlock: {
                auto [text, flow] = capture(n.body, child_frame(frame, n.locals));
                Value v(std::move(text));
                if (n.expr) v = apply_filter_chain(*n.expr, std::move(v), frame);
                exec_set(*n.target, std::move(v), frame);
                return flow;
            }
            case NodeKind::Macro:
                frame->set(n.macro->name, make_macro(n.macro, frame));
                return Flow::Normal;
            case NodeKind::CallBlock: {
                const Expr& call_expr = *n.expr;
                Value callee = eval(*call_expr.a, frame);
                Args args = eval_args(call_expr.args, frame);
                args.kw.emplace_back("caller", make_macro(n.macro, frame));
                emit(to_str(call(callee, args)));
                return Flow::Normal;
            }
            case NodeKind::FilterBlock: {
                auto [text, flow] = capture(n.body, child_frame(frame, n.locals));
                emit(to_str(apply_filter_chain(*n.expr, Value(std::move(text)), frame)));
                return flow;
            }
            case NodeKind::With: {
                auto inner = child_frame(frame, n.locals);
                std::vector<Value> values;
                for (const auto& [target, value] : n.assigns) values.push_back(eval(*value, frame));
                for (size_t i = 0; i < values.size(); ++i)
                    exec_set(*n.assigns[i].first, std::move(values[i]), inner);
                return exec_body(n.body, inner);
            }
            case NodeKind::Scope:
                return exec_body(n.body, child_frame(frame, n.locals));
            case NodeKind::Break:
                return Flow::Break;
            case NodeKind::Continue:
                return Flow::Continue;
        }
        return Flow::Normal;
    } catch (const LocatedError&) {
        throw;
    } catch (const RaisedError&) {
        throw;
    } catch (const Error& e) {
        const auto [line, col] = src_.line_col(n.pos);
        throw LocatedError(
            str_cat("template error at line ", line, ", column ", col, ": ", e.what()));
    }
}

void Interp::exec_set(const Expr& target, Value v, const FramePtr& frame) {
    if (target.kind == ExprKind::Name) {
        frame->set(target.name, std::move(v));
        return;
    }
    if (target.kind == ExprKind::GetAttr) {
        const Value* ns = frame->find(target.a->name);
        if (!ns || !ns->is_object() || ns->object().type != ObjectData::Type::Namespace)
            fail("cannot assign attribute on non-namespace object");
        ns->object().set(target.name, std::move(v));
        return;
    }
    // Tuple unpacking.
    std::vector<Value> items = iterate(v);
    const size_t n = target.items.size();
    if (items.size() > n) fail("too many values to unpack (expected ", n, ")");
    if (items.size() < n)
        fail("not enough values to unpack (expected ", n, ", got ", items.size(), ")");
    for (size_t i = 0; i < n; ++i) exec_set(*target.items[i], std::move(items[i]), frame);
}

Value Interp::apply_filter_chain(const Expr& chain, Value input, const FramePtr& frame) {
    const Value* saved = block_input_;
    block_input_ = &input;
    Value out;
    try {
        out = eval(chain, frame);
    } catch (...) {
        block_input_ = saved;
        throw;
    }
    block_input_ = saved;
    return out;
}

Value Interp::make_macro(const std::shared_ptr<MacroDef>& def, const FramePtr& closure) {
    const MacroDef* d = def.get();
    Value m = Value::callable(def->name, [d, closure](Interp& in, Args& args) -> Value {
        DepthScope depth(in);
        auto f = child_frame(closure, d->locals);
        std::vector<std::pair<std::string, Value>> kw = std::move(args.kw);
        Value caller;
        for (auto it = kw.begin(); it != kw.end(); ++it) {
            if (it->first == "caller") {
                caller = std::move(it->second);
                kw.erase(it);
                break;
            }
        }
        for (size_t i = 0; i < d->params.size(); ++i) {
            const auto& [name, def_expr] = d->params[i];
            if (i < args.pos.size()) {
                f->set(name, args.pos[i]);
                continue;
            }
            auto it =
                std::find_if(kw.begin(), kw.end(), [&](const auto& p) { return p.first == name; });
            if (it != kw.end()) {
                f->set(name, std::move(it->second));
                kw.erase(it);
            } else if (def_expr) {
                f->set(name, in.eval(*def_expr, f));
            } else {
                f->set(name, Value::undefined("parameter '" + name + "' was not provided"));
            }
        }
        std::vector<Value> varargs;
        for (size_t i = d->params.size(); i < args.pos.size(); ++i) varargs.push_back(args.pos[i]);
        Value kwargs = Value::dict();
        for (auto& [k, v] : kw) kwargs.dict_data().set(Value(k), std::move(v));
        f->set("varargs", Value::tuple(std::move(varargs)));
        f->set("kwargs", std::move(kwargs));
        if (!caller.is_undefined()) f->set("caller", std::move(caller));
        return Value(in.capture(d->body, f).first);
    });
    track(m);
    return m;
}

Interp::Flow Interp::exec_for(const Node& n, const FramePtr& frame) {
    const Value iterable = eval(*n.expr, frame);
    return run_loop(n, iterable, frame, 1);
}

Interp::Flow Interp::run_loop(const Node& n, const Value& iterable, const FramePtr& frame,
                              int depth) {
    std::vector<Value> items = iterate(iterable);
    if (n.cond) {
        std::vector<Value> kept;
        for (auto& item : items) {
            auto f = child_frame(frame, n.locals);
            exec_set(*n.target, item, f);
            if (truthy(eval(*n.cond, f))) kept.push_back(std::move(item));
        }
        items = std::move(kept);
    }
    if (items.empty()) {
        // The else block is outside this loop: a break/continue there is the enclosing loop's.
        if (!n.else_body.empty()) return exec_body(n.else_body, child_frame(frame, n.else_locals));
        return Flow::Normal;
    }

    // loop: one object per loop run, its attributes updated in place every iteration.
    enum Slot {
        Index,
        Index0,
        RevIndex,
        RevIndex0,
        First,
        Last,
        Length,
        Depth,
        Depth0,
        Prev,
        Next,
        Cycle,
        Changed
    };
    auto loop = std::make_shared<ObjectData>();
    loop->type = ObjectData::Type::Loop;
    for (const char* name : {"index", "index0", "revindex", "revindex0", "first", "last", "length",
                             "depth", "depth0", "previtem", "nextitem", "cycle", "changed"})
        loop->attrs.emplace_back(name, Value());
    std::weak_ptr<ObjectData> weak = loop;
    loop->attrs[Cycle].second = Value::callable("cycle", [weak](Interp&, Args& a) -> Value {
        if (a.pos.empty()) fail("no items for cycling given");
        auto l = weak.lock();
        if (!l) fail("loop.cycle used after its loop ended");
        const int64_t i = l->attrs[Index0].second.as_int();
        return a.pos[static_cast<size_t>(i) % a.pos.size()];
    });
    auto last_changed = std::make_shared<std::optional<Value>>();
    loop->attrs[Changed].second =
        Value::callable("changed", [last_changed](Interp&, Args& a) -> Value {
            Value now = Value::tuple(a.pos);
            if (*last_changed && equal(**last_changed, now)) return Value::boolean(false);
            *last_changed = std::move(now);
            return Value::boolean(true);
        });
    if (n.recursive) {
        loop->call = [&n, frame, depth](Interp& in, Args& a) -> Value {
            if (a.pos.size() != 1 || !a.kw.empty()) fail("loop() takes exactly one argument");
            std::string buf;
            std::string* saved = in.out_;
            in.out_ = &buf;
            try {
                in.run_loop(n, a.pos[0], frame, depth + 1);
            } catch (...) {
                in.out_ = saved;
                throw;
            }
            in.out_ = saved;
            return Value(std::move(buf));
        };
    }
    Value loop_value;
    loop_value.v = loop;
    track(loop_value);

    const auto len = static_cast<int64_t>(items.size());
    auto& a = loop->attrs;
    a[Length].second = Value::integer(len);
    a[Depth].second = Value::integer(depth);
    a[Depth0].second = Value::integer(depth - 1);
    bool completed = false;
    for (int64_t i = 0; i < len; ++i) {
        tick();
        const auto u = static_cast<size_t>(i);
        a[Index].second = Value::integer(i + 1);
        a[Index0].second = Value::integer(i);
        a[RevIndex].second = Value::integer(len - i);
        a[RevIndex0].second = Value::integer(len - i - 1);
        a[First].second = Value::boolean(i == 0);
        a[Last].second = Value::boolean(i == len - 1);
        a[Prev].second = i > 0 ? items[u - 1] : Value::undefined("there is no previous item");
        a[Next].second = i + 1 < len ? items[u + 1] : Value::undefined("there is no next item");
        auto f = child_frame(frame, n.locals);
        exec_set(*n.target, items[u], f);
        f->set("loop", loop_value);
        const Flow flow = exec_body(n.body, f);
        if (flow == Flow::Normal)
            completed = true;
        else if (flow == Flow::Break)
            break;
    }
    // Jinja2 runs `else` unless an iteration reached the end of the body: after a break or a
    // continue in the last iteration it runs, as in `{% for x in [1] %}{% break %}{% else %}`.
    if (!completed && !n.else_body.empty())
        return exec_body(n.else_body, child_frame(frame, n.else_locals));
    return Flow::Normal;
}

Value Interp::lookup(const std::string& name, const FramePtr& frame) const {
    if (const Value* v = frame->find(name)) return *v;
    if (const Value* g = find_global(name)) return *g;
    return Value::undefined("'" + name + "' is undefined");
}

Args Interp::eval_args(const CallArgs& a, const FramePtr& frame) {
    Args args;
    args.pos.reserve(a.pos.size());
    for (const auto& e : a.pos) args.pos.push_back(eval(*e, frame));
    if (a.star)
        for (auto& v : iterate(eval(*a.star, frame))) args.pos.push_back(std::move(v));
    for (const auto& [k, e] : a.kw) args.kw.emplace_back(k, eval(*e, frame));
    if (a.star_star) {
        const Value d = eval(*a.star_star, frame);
        if (!d.is_dict()) fail("argument after ** must be a mapping, not ", type_name(d));
        for (const auto& [k, v] : d.dict_data().items) {
            if (!k.is_string()) fail("keywords must be strings");
            args.kw.emplace_back(k.str(), v);
        }
    }
    return args;
}

Value Interp::call(const Value& callee, Args& args) {
    DepthScope depth(*this);
    if (callee.kind() == Kind::Callable) {
        if (!callee.fn().fn) fail("'", callee.fn().name, "' can no longer be called");
        return callee.fn().fn(*this, args);
    }
    if (callee.is_object() && callee.object().call) return callee.object().call(*this, args);
    if (callee.is_undefined()) raise_undefined(callee);
    fail("'", type_name(callee), "' object is not callable");
}

Value Interp::filter(const std::string& name, Value input, Args& args) {
    const FilterFn fn = find_filter(name);
    if (!fn) fail("No filter named '", name, "'.");
    return fn(*this, input, args);
}

bool Interp::test(const std::string& name, const Value& v, Args& args) {
    const TestFn fn = find_test(name);
    if (!fn) fail("No test named '", name, "'.");
    return fn(*this, v, args);
}

Value Interp::eval(const Expr& e, const FramePtr& frame) {
    try {
        DepthScope depth(*this);
        tick();
        return eval_inner(e, frame);
    } catch (const LocatedError&) {
        throw;
    } catch (const RaisedError&) {
        throw;
    } catch (const Error& err) {
        const auto [line, col] = src_.line_col(e.pos);
        throw LocatedError(
            str_cat("template error at line ", line, ", column ", col, ": ", err.what()));
    }
}

Value Interp::eval_compare(const Expr& e, const FramePtr& frame) {
    Value left = eval(*e.items[0], frame);
    for (size_t i = 0; i < e.cmp_ops.size(); ++i) {
        Value right = eval(*e.items[i + 1], frame);
        bool ok = false;
        switch (e.cmp_ops[i]) {
            case CompareOp::Eq:
                ok = equal(left, right);
                break;
            case CompareOp::Ne:
                ok = !equal(left, right);
                break;
            case CompareOp::Lt:
                ok = compare(left, right, CmpOp::Lt);
                break;
            case CompareOp::Le:
                ok = compare(left, right, CmpOp::Le);
                break;
            case CompareOp::Gt:
                ok = compare(left, right, CmpOp::Gt);
                break;
            case CompareOp::Ge:
                ok = compare(left, right, CmpOp::Ge);
                break;
            case CompareOp::In:
                ok = contains(right, left);
                break;
            case CompareOp::NotIn:
                ok = !contains(right, left);
                break;
        }
        if (!ok) return Value::boolean(false);
        left = std::move(right);
    }
    return Value::boolean(true);
}

Value Interp::eval_inner(const Expr& e, const FramePtr& frame) {
    switch (e.kind) {
        case ExprKind::Literal:
            return e.literal;
        case ExprKind::Name:
            return lookup(e.name, frame);
        case ExprKind::List:
        case ExprKind::Tuple: {
            std::vector<Value> items;
            items.reserve(e.items.size());
            for (const auto& x : e.items) items.push_back(eval(*x, frame));
            return e.kind == ExprKind::List ? Value::list(std::move(items))
                                            : Value::tuple(std::move(items));
        }
        case ExprKind::Dict: {
            Value d = Value::dict();
            for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
                Value k = eval(*e.items[i], frame);
                if (unhashable(k)) fail("unhashable type: '", type_name(k), "'");
                d.dict_data().set(std::move(k), eval(*e.items[i + 1], frame));
            }
            return d;
        }
        case ExprKind::Neg:
            return negate(eval(*e.a, frame), true);
        case ExprKind::Pos:
            return negate(eval(*e.a, frame), false);
        case ExprKind::Not:
            return Value::boolean(!truthy(eval(*e.a, frame)));
        case ExprKind::Binary: {
            const Value a = eval(*e.a, frame);
            const Value b = eval(*e.b, frame);
            if (e.op == BinOp::Concat) {
                std::string s = to_str(a);
                const std::string t = to_str(b);
                check_size(s.size() + t.size());
                return Value(s + t);
            }
            return binop(*this, e.op, a, b);
        }
        case ExprKind::And: {
            Value a = eval(*e.a, frame);
            if (!truthy(a)) return a;
            return eval(*e.b, frame);
        }
        case ExprKind::Or: {
            Value a = eval(*e.a, frame);
            if (truthy(a)) return a;
            return eval(*e.b, frame);
        }
        case ExprKind::Compare:
            return eval_compare(e, frame);
        case ExprKind::Cond:
            if (truthy(eval(*e.b, frame))) return eval(*e.a, frame);
            if (e.c) return eval(*e.c, frame);
            return Value::undefined(
                "the inline if-expression evaluated to false and no else section was defined.");
        case ExprKind::GetAttr:
            return getattr(eval(*e.a, frame), e.name);
        case ExprKind::GetItem: {
            const Value obj = eval(*e.a, frame);
            if (e.b->kind == ExprKind::Slice) {
                const Expr& s = *e.b;
                const Value start = s.a ? eval(*s.a, frame) : Value::none();
                const Value stop = s.b ? eval(*s.b, frame) : Value::none();
                const Value step = s.c ? eval(*s.c, frame) : Value::none();
                return slice(*this, obj, start, stop, step);
            }
            return getitem(obj, eval(*e.b, frame));
        }
        case ExprKind::Slice:
            fail("a slice is only allowed inside [ ]");
        case ExprKind::Call: {
            const Value callee = eval(*e.a, frame);
            Args args = eval_args(e.args, frame);
            return call(callee, args);
        }
        case ExprKind::Filter: {
            Value input;
            if (e.a)
                input = eval(*e.a, frame);
            else if (block_input_)
                input = *block_input_;
            Args args = eval_args(e.args, frame);
            return filter(e.name, std::move(input), args);
        }
        case ExprKind::Test: {
            const Value v = eval(*e.a, frame);
            Args args = eval_args(e.args, frame);
            return Value::boolean(test(e.name, v, args));
        }
    }
    fail("unknown expression");
}

}  // namespace pangolin::jinja
