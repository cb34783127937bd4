#include "text/json_constraint.h"

#include <algorithm>
#include <array>
#include <limits>
#include <mutex>
#include <optional>
#include <string>

#include "core/error.h"
#include "text/tokenizer.h"

namespace pangolin {

using json_grammar::Frame;
using json_grammar::Stack;

class TokenIndex {
  public:
    explicit TokenIndex(const Tokenizer& tokenizer);

    struct TrieNode {
        uint32_t first_edge = 0, n_edges = 0;    // children: edge_byte/edge_child[first_edge…]
        uint32_t first_token = 0, n_tokens = 0;  // tokens spelled by the path: node_tokens[…]
    };
    // A string body entered in one of the 8 UTF-8 continuation classes (json_matcher.h):
    // tokens that stay plain string text, and tokens that reach '"' or '\' first (they need the
    // full recognizer). Every other token is invalid there.
    struct StringClass {
        std::vector<uint64_t> plain_bits;
        std::vector<int32_t> plain, special;
    };

    size_t n_vocab = 0;
    std::vector<TrieNode> nodes;  // nodes[0]: the root (empty prefix)
    std::vector<uint8_t> edge_byte;
    std::vector<uint32_t> edge_child;
    std::vector<int32_t> node_tokens;
    std::vector<std::string> pieces;    // "" for tokens never allowed as text (control, EOG)
    std::vector<uint32_t> code_points;  // lead bytes of each piece
    uint32_t max_code_points = 0;
    std::vector<int32_t> eog;
    std::vector<uint8_t> is_eog;
    std::array<StringClass, 8> string_classes;
    std::string fingerprint;

  private:
    void build_trie();
    void build_string_classes();
};

namespace {

std::string fingerprint_of(const Tokenizer& tokenizer) {
    std::string f = tokenizer.describe() + "|" + std::to_string(tokenizer.n_vocab());
    const auto n = static_cast<int32_t>(tokenizer.n_vocab());
    for (int32_t id = 0; id < n; id += 997) f += "|" + tokenizer.token_text(id);
    return f;
}

}  // namespace

TokenIndex::TokenIndex(const Tokenizer& tokenizer) {
    n_vocab = tokenizer.n_vocab();
    fingerprint = fingerprint_of(tokenizer);
    pieces.resize(n_vocab);
    code_points.assign(n_vocab, 0);
    is_eog.assign(n_vocab, 0);
    for (size_t k = 0; k < n_vocab; ++k) {
        const auto id = static_cast<int32_t>(k);
        if (tokenizer.is_eog(id)) {
            is_eog[k] = 1;
            eog.push_back(id);
            continue;
        }
        if (tokenizer.is_control(id)) continue;
        pieces[k] = tokenizer.token_to_piece(id, /*special=*/false);
        for (const char c : pieces[k]) code_points[k] += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
        max_code_points = std::max(max_code_points, code_points[k]);
    }
    build_trie();
    build_string_classes();
}

// Breadth-first over the tokens sorted by bytes: each node's children are one run of edges.
void TokenIndex::build_trie() {
    std::vector<int32_t> order;
    for (size_t k = 0; k < n_vocab; ++k)
        if (!pieces[k].empty()) order.push_back(static_cast<int32_t>(k));
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return pieces[static_cast<size_t>(a)] < pieces[static_cast<size_t>(b)];
    });
    struct Pending {
        uint32_t node, lo, hi, depth;
    };
    std::vector<Pending> queue{{0, 0, static_cast<uint32_t>(order.size()), 0}};
    nodes.emplace_back();
    const auto piece = [&](uint32_t k) -> const std::string& {
        return pieces[static_cast<size_t>(order[k])];
    };
    for (size_t q = 0; q < queue.size(); ++q) {
        const Pending p = queue[q];
        uint32_t lo = p.lo;
        TrieNode node;
        node.first_token = static_cast<uint32_t>(node_tokens.size());
        while (lo < p.hi && piece(lo).size() == p.depth) node_tokens.push_back(order[lo++]);
        node.n_tokens = static_cast<uint32_t>(node_tokens.size()) - node.first_token;
        node.first_edge = static_cast<uint32_t>(edge_byte.size());
        while (lo < p.hi) {
            const char byte = piece(lo)[p.depth];
            uint32_t hi = lo;
            while (hi < p.hi && piece(hi)[p.depth] == byte) ++hi;
            const auto child = static_cast<uint32_t>(nodes.size());
            nodes.emplace_back();
            edge_byte.push_back(static_cast<uint8_t>(byte));
            edge_child.push_back(child);
            queue.push_back({child, lo, hi, p.depth + 1});
            lo = hi;
        }
        node.n_edges = static_cast<uint32_t>(edge_byte.size()) - node.first_edge;
        nodes[p.node] = node;
    }
}

void TokenIndex::build_string_classes() {
    for (int k = 0; k < 8; ++k) {
        StringClass& sc = string_classes[static_cast<size_t>(k)];
        sc.plain_bits.assign((n_vocab + 63) / 64, 0);
        for (size_t t = 0; t < n_vocab; ++t) {
            if (pieces[t].empty()) continue;
            Frame f;
            json_grammar::utf8_class_state(k, f);
            bool plain = true, special = false;
            for (const char ch : pieces[t]) {
                const auto c = static_cast<uint8_t>(ch);
                if (f.utf8_need == 0 && (c == '"' || c == '\\')) {
                    special = true;
                    break;
                }
                bool starts_char = false;
                if ((f.utf8_need == 0 && c < 0x20) || !json_grammar::utf8_step(f, c, starts_char)) {
                    plain = false;
                    break;
                }
            }
            if (special) {
                sc.special.push_back(static_cast<int32_t>(t));
            } else if (plain) {
                sc.plain.push_back(static_cast<int32_t>(t));
                sc.plain_bits[t >> 6] |= uint64_t{1} << (t & 63);
            }
        }
    }
}

std::shared_ptr<const TokenIndex> token_index(const Tokenizer& tokenizer) {
    // Kept strongly (a few MB each) for the last few vocabularies; the fingerprint guards
    // against a new tokenizer allocated where a destroyed one was.
    static std::mutex mutex;
    static std::vector<std::pair<const Tokenizer*, std::shared_ptr<const TokenIndex>>> cache;
    const std::string fingerprint = fingerprint_of(tokenizer);
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& [tok, index] : cache)
        if (tok == &tokenizer && index->fingerprint == fingerprint) return index;
    auto index = std::make_shared<const TokenIndex>(tokenizer);
    std::erase_if(cache, [&](const auto& entry) { return entry.first == &tokenizer; });
    if (cache.size() >= 4) cache.erase(cache.begin());
    cache.emplace_back(&tokenizer, index);
    return index;
}

std::shared_ptr<JsonConstraint> JsonConstraint::from_schema(const nlohmann::json& schema_or_null,
                                                            const Tokenizer& tokenizer,
                                                            const JsonConstraintOptions& options) {
    auto grammar = json_grammar::compile(schema_or_null);  // schema errors before the index
    return std::make_shared<JsonConstraint>(std::move(grammar), token_index(tokenizer), options);
}

std::shared_ptr<JsonConstraint> JsonConstraint::from_schema(const nlohmann::json& schema_or_null,
                                                            std::shared_ptr<const TokenIndex> index,
                                                            const JsonConstraintOptions& options) {
    return std::make_shared<JsonConstraint>(json_grammar::compile(schema_or_null), std::move(index),
                                            options);
}

JsonConstraint::JsonConstraint(json_grammar::Grammar grammar,
                               std::shared_ptr<const TokenIndex> index,
                               const JsonConstraintOptions& options)
    : grammar_(std::move(grammar)),
      matcher_(grammar_, {options.max_whitespace, options.max_depth}),
      index_(std::move(index)) {
    require(options.max_whitespace >= 1 && options.max_depth >= 1,
            "JSON constraint: max_whitespace and max_depth must be at least 1");
    states_.push_back(matcher_.initial());
    mask_.assign((index_->n_vocab + 63) / 64, 0);
}

bool JsonConstraint::complete() const {
    return std::any_of(states_.begin(), states_.end(),
                       [&](const Stack& s) { return matcher_.can_end(s); });
}

bool JsonConstraint::accepts(const Stack& s, std::string_view bytes) {
    a_.assign(1, s);
    for (const char c : bytes) {
        b_.clear();
        for (const Stack& t : a_) matcher_.advance(t, static_cast<uint8_t>(c), scratch_, b_);
        if (b_.empty()) return false;
        a_.swap(b_);
    }
    return true;
}

bool JsonConstraint::accept_bytes(std::string_view bytes) {
    a_ = states_;
    for (const char c : bytes) {
        b_.clear();
        for (const Stack& t : a_) matcher_.advance(t, static_cast<uint8_t>(c), committed_, b_);
        if (b_.empty()) return false;
        a_.swap(b_);
    }
    states_.swap(a_);
    mask_valid_ = false;
    return true;
}

bool JsonConstraint::accept(int32_t token) {
    if (token < 0 || static_cast<size_t>(token) >= index_->n_vocab) return false;
    const auto k = static_cast<size_t>(token);
    if (index_->is_eog[k]) return complete();
    if (index_->pieces[k].empty()) return false;
    return accept_bytes(index_->pieces[k]);
}

void JsonConstraint::walk_trie(const std::vector<Stack>& states) {
    const TokenIndex& ix = *index_;
    pool_.assign(states.begin(), states.end());
    levels_.clear();
    levels_.push_back(
        {ix.nodes[0].first_edge, ix.nodes[0].first_edge + ix.nodes[0].n_edges, 0, pool_.size()});
    while (!levels_.empty()) {
        Level& level = levels_.back();
        if (level.edge == level.edge_end) {
            pool_.resize(level.states_begin);
            levels_.pop_back();
            continue;
        }
        const uint32_t edge = level.edge++;
        const uint8_t byte = ix.edge_byte[edge];
        const size_t begin = pool_.size(), parent_begin = level.states_begin,
                     parent_end = level.states_end;
        for (size_t k = parent_begin; k < parent_end; ++k)
            matcher_.advance(pool_[k], byte, scratch_, pool_);
        if (pool_.size() == begin) continue;  // no token below this prefix is allowed
        const TokenIndex::TrieNode& child = ix.nodes[ix.edge_child[edge]];
        for (uint32_t t = 0; t < child.n_tokens; ++t) set(ix.node_tokens[child.first_token + t]);
        if (child.n_edges)
            levels_.push_back(
                {child.first_edge, child.first_edge + child.n_edges, begin, pool_.size()});
        else
            pool_.resize(begin);
    }
}

void JsonConstraint::compute_mask() {
    if (mask_valid_) return;
    const TokenIndex& ix = *index_;
    std::fill(mask_.begin(), mask_.end(), 0);
    scratch_.reset();
    // The mask is the union over the stacks. A stack in the body of a string takes plain text
    // by class and runs only the tokens that leave the string; the others walk the trie.
    others_.clear();
    for (const Stack& s : states_) {
        const auto room = matcher_.plain_string_room(s);
        if (!room) {
            others_.push_back(s);
            continue;
        }
        const auto& sc =
            ix.string_classes[static_cast<size_t>(json_grammar::Matcher::utf8_class(s.top))];
        if (*room >= ix.max_code_points) {
            for (size_t w = 0; w < mask_.size(); ++w) mask_[w] |= sc.plain_bits[w];
        } else {
            for (const int32_t t : sc.plain)
                if (ix.code_points[static_cast<size_t>(t)] <= *room) set(t);
        }
        for (const int32_t t : sc.special)
            if (!is_set(t) && accepts(s, ix.pieces[static_cast<size_t>(t)])) set(t);
    }
    if (!others_.empty()) walk_trie(others_);
    if (complete())
        for (const int32_t t : ix.eog) set(t);
    mask_valid_ = true;
}

const std::vector<uint64_t>& JsonConstraint::mask() {
    compute_mask();
    return mask_;
}

bool JsonConstraint::allowed(int32_t token) {
    compute_mask();
    if (token < 0 || static_cast<size_t>(token) >= index_->n_vocab) return false;
    return mask_[static_cast<size_t>(token) >> 6] >> (token & 63) & 1;
}

bool JsonConstraint::would_accept(int32_t token) {
    if (token < 0 || static_cast<size_t>(token) >= index_->n_vocab) return false;
    const auto k = static_cast<size_t>(token);
    if (index_->is_eog[k]) return complete();
    if (index_->pieces[k].empty()) return false;
    scratch_.reset();
    mask_valid_ = false;  // the scratch links of the mask walk are gone
    for (const Stack& s : states_)
        if (accepts(s, index_->pieces[k])) return true;
    return false;
}

size_t JsonConstraint::count_allowed() {
    compute_mask();
    size_t n = 0;
    for (const uint64_t w : mask_) n += static_cast<size_t>(__builtin_popcountll(w));
    return n;
}

void JsonConstraint::apply(float* logits, int64_t n_vocab) {
    compute_mask();
    constexpr float k_masked = -std::numeric_limits<float>::infinity();
    const auto n_tok = static_cast<int64_t>(index_->n_vocab);
    if (count_allowed() == 0) {  // cannot happen (every accepted prefix can be finished); end
        for (const int32_t t : index_->eog) set(t);
    }
    const int64_t n = std::min(n_vocab, n_tok);
    for (int64_t w = 0; w * 64 < n; ++w) {
        const uint64_t bits = mask_[static_cast<size_t>(w)];
        if (bits == ~uint64_t{0}) continue;
        const int64_t end = std::min(n, (w + 1) * 64);
        for (int64_t i = w * 64; i < end; ++i)
            if (!(bits >> (i & 63) & 1)) logits[i] = k_masked;
    }
    for (int64_t i = n; i < n_vocab; ++i) logits[i] = k_masked;
}

}  // namespace pangolin
