#include "config/yaml_tree.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>
#include <yaml.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "config/formats.hpp"

namespace sharekeeper::config::detail {
namespace {

// Thrown from an event callback to stop yaml-cpp before its own recursion gets deep: it recurses
// once per nesting level (guarded only at 500), so the cap must come from us.
struct StopParsing {};

// How far inside an over-deep subtree we keep consuming events before giving up on the file.
constexpr int kMaxSkippedDepth = 64;

std::string shorten(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  if (s.size() > 40) out += "...";
  return out;
}

class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(const std::string& file, std::string_view content, std::vector<Diagnostic>& diags)
      : file_(file), content_(content), diags_(diags) {}

  bool done() const { return done_; }
  Node take_root() { return std::move(root_); }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override {
    if (skipping()) return;
    Node n;
    set_pos(n, mark);
    place_empty_null(n, mark);
    add(std::move(n));
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    if (skipping()) return;
    error(mark, "aliases (`*name`) are not allowed",
          "write the value out; the config has no references");
    Node n;
    set_pos(n, mark);
    add(std::move(n));
  }

  void OnAnchor(const YAML::Mark& mark, const std::string& name) override {
    if (skipping()) return;
    error(mark, "anchors (`&" + shorten(name) + "`) are not allowed",
          "write the value out; the config has no references");
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                const std::string& value) override {
    if (skipping()) return;
    check_tag(mark, tag);
    Node n;
    n.kind = Node::Kind::kScalar;
    n.quoted = tag == "!";
    set_pos(n, mark);
    if (format::looks_like_access_key_id(value)) {
      error(mark, "this looks like an AccessKey ID; credentials never belong in the config",
            "name where to find them instead (credentials.source)");
      n.text = "REDACTED";  // later diagnostics quote values; this one must never appear in them
    } else {
      n.text = value;
    }
    add(std::move(n));
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    open(mark, tag, Node::Kind::kSequence);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    open(mark, tag, Node::Kind::kMap);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    Node node;
    // Duplicate detection: a scan of the keys so far for small maps (no allocation per mapping on a
    // 10,000-share config), a hash index once a map grows large (fuzzed inputs).
    std::unique_ptr<std::unordered_map<std::string, int>> index;
  };

  bool skipping() const { return skip_depth_ > 0; }

  // An empty node (`- ` or `key:` with nothing after it) gets the mark of the next token, often
  // on a later line: the diagnostic would point at the wrong field. Place it just after the
  // indicator that introduced it (`-`, `:`), ignoring a trailing comment. `~` and `null` are real
  // tokens and keep their mark.
  void place_empty_null(Node& n, const YAML::Mark& mark) const {
    if (mark.is_null() || mark.pos < 0) return;
    const auto pos = std::min(static_cast<std::size_t>(mark.pos), content_.size());
    const std::string_view rest = content_.substr(pos);
    if (rest.starts_with("~") || rest.starts_with("null") || rest.starts_with("Null") ||
        rest.starts_with("NULL"))
      return;
    std::size_t end = pos;  // one past the last character that is not a space or newline
    while (end > 0 && (content_[end - 1] == ' ' || content_[end - 1] == '\t' ||
                       content_[end - 1] == '\n' || content_[end - 1] == '\r'))
      --end;
    const std::size_t line_start = content_.rfind('\n', end == 0 ? 0 : end - 1);
    const std::size_t first = line_start == std::string_view::npos ? 0 : line_start + 1;
    if (first >= end) return;
    std::string_view text = content_.substr(first, end - first);
    if (const auto hash = text.find(" #"); hash != std::string_view::npos)
      text = text.substr(0, hash);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    if (text.empty()) return;
    // Counted back from the mark's own line: O(the gap), not O(the file), per empty node.
    n.line =
        mark.line + 1 -
        static_cast<int>(std::count(content_.begin() + static_cast<std::ptrdiff_t>(first),
                                    content_.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
    n.column = static_cast<int>(text.size()) + 2;  // where the value would start, after a space
  }

  void set_pos(Node& n, const YAML::Mark& mark) {
    n.line = mark.is_null() ? 0 : mark.line + 1;
    n.column = mark.is_null() ? 0 : mark.column + 1;
  }

  void error(const YAML::Mark& mark, std::string message, std::string hint = "") {
    Diagnostic d;
    d.where = {file_, mark.is_null() ? 0 : mark.line + 1, mark.is_null() ? 0 : mark.column + 1};
    d.message = std::move(message);
    d.hint = std::move(hint);
    diags_.push_back(std::move(d));
  }
  void error(const Node& n, std::string message, std::string hint = "") {
    diags_.push_back(make_diagnostic(Severity::kError, file_, n.line, n.column, std::move(message),
                                     std::move(hint)));
  }

  void check_tag(const YAML::Mark& mark, const std::string& tag) {
    // "?" = no tag (plain), "!" = non-specific (quoted); everything else is an explicit tag.
    if (tag.empty() || tag == "?" || tag == "!") return;
    error(mark, "tags (`" + shorten(tag) + "`) are not allowed",
          "quote the value to make it a string");
  }

  void open(const YAML::Mark& mark, const std::string& tag, Node::Kind kind) {
    if (skipping() || static_cast<int>(stack_.size()) >= kMaxNestingDepth) {
      if (!skipping())
        error(mark, "nesting deeper than the schema allows (" + std::to_string(kMaxNestingDepth) +
                        " levels)");
      if (++skip_depth_ > kMaxSkippedDepth) throw StopParsing{};
      if (skip_depth_ == 1) set_pos(skipped_, mark);
      return;
    }
    check_tag(mark, tag);
    Frame f;
    f.node.kind = kind;
    set_pos(f.node, mark);
    stack_.push_back(std::move(f));
  }

  void close() {
    if (skipping()) {
      if (--skip_depth_ == 0)
        add(std::move(skipped_));  // a null placeholder keeps key/value pairs aligned
      skipped_ = Node{};
      return;
    }
    Node n = std::move(stack_.back().node);
    stack_.pop_back();
    add(std::move(n));
  }

  void add(Node n) {
    if (stack_.empty()) {
      root_ = std::move(n);
      done_ = true;
      return;
    }
    Frame& top = stack_.back();
    if (top.node.kind == Node::Kind::kMap && top.node.children.size() % 2 == 0) check_key(top, n);
    top.node.children.push_back(std::move(n));
  }

  void check_key(Frame& map, const Node& key) {
    if (!key.is_scalar()) {
      error(key, "mapping keys must be plain strings");
      return;
    }
    if (!key.quoted && key.text == "<<") {
      error(key, "merge keys (`<<`) are not allowed", "write the keys out");
      return;
    }
    constexpr std::size_t kScanLimit = 32;
    const auto& children = map.node.children;
    int first_line = -1;
    if (!map.index) {
      for (std::size_t i = 0; i < children.size(); i += 2)
        if (children[i].is_scalar() && children[i].text == key.text) {
          first_line = children[i].line;
          break;
        }
      if (first_line < 0 && children.size() / 2 >= kScanLimit) {
        map.index = std::make_unique<std::unordered_map<std::string, int>>();
        for (std::size_t i = 0; i < children.size(); i += 2)
          if (children[i].is_scalar()) map.index->emplace(children[i].text, children[i].line);
      }
    }
    if (map.index) {
      auto [it, inserted] = map.index->emplace(key.text, key.line);
      if (!inserted) first_line = it->second;
    }
    if (first_line >= 0)
      error(key, "duplicate key `" + shorten(key.text) + "`",
            "first defined on line " + std::to_string(first_line) +
                "; YAML would keep only the last one");
  }

  const std::string& file_;
  std::string_view content_;
  std::vector<Diagnostic>& diags_;
  std::vector<Frame> stack_;
  Node root_;
  Node skipped_;
  int skip_depth_ = 0;
  bool done_ = false;
};

std::pair<int, int> line_column(std::string_view content, std::size_t offset) {
  int line = 1, col = 1;
  for (std::size_t i = 0; i < offset && i < content.size(); ++i) {
    if (content[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

}  // namespace

support::Result<void, EncodingError> check_encoding(std::string_view s) {
  std::size_t i = 0;
  if (s.starts_with("\xEF\xBB\xBF")) i = 3;  // a UTF-8 byte order mark is allowed at the start only
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "control character U+%04X is not allowed", c);
        return EncodingError{i, buf};
      }
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0, min = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return EncodingError{i, "not UTF-8 (the config must be UTF-8)"};
    }
    if (i + len > s.size()) return EncodingError{i, "not UTF-8 (truncated sequence)"};
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return EncodingError{i, "not UTF-8 (the config must be UTF-8)"};
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return EncodingError{i, "not UTF-8 (overlong or invalid code point)"};
    if ((cp >= 0x80 && cp <= 0x9F && cp != 0x85) || cp == 0xFEFF) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "character U+%04X is not allowed", static_cast<unsigned>(cp));
      return EncodingError{i, buf};
    }
    i += len;
  }
  return {};
}

namespace {

// The checks every parser shares: size and encoding. False when `out` already says why not.
bool admissible(const std::string& file, std::string_view content, ParsedYaml& out) {
  if (content.size() > kMaxFileBytes) {
    out.diagnostics.push_back(
        make_diagnostic(Severity::kError, file, 0, 0,
                        "file is larger than 1 MiB (" + std::to_string(content.size()) + " bytes)",
                        "split it into several files in one directory"));
    return false;
  }
  if (auto encoding = check_encoding(content); !encoding) {
    const EncodingError& bad = encoding.error();
    auto [line, col] = line_column(content, bad.offset);
    out.diagnostics.push_back(make_diagnostic(Severity::kError, file, line, col, bad.message, ""));
    return false;
  }
  return true;
}

// yaml-cpp's event parser, the reference: every file the fast path below does not take.
ParsedYaml parse_with_yaml_cpp(const std::string& file, std::string_view content) {
  ParsedYaml out;
  std::istringstream in{std::string(content)};
  TreeBuilder builder(file, content, out.diagnostics);
  try {
    YAML::Parser parser(in);
    if (!parser.HandleNextDocument(builder) || !builder.done()) {
      out.diagnostics.push_back(make_diagnostic(Severity::kError, file, 0, 0, "file is empty",
                                                "start it with `apiVersion: sharekeeper/v1`"));
      return out;
    }
    out.root = builder.take_root();
    out.has_root = true;
    TreeBuilder extra(file, content, out.diagnostics);
    auto before = out.diagnostics.size();
    if (parser.HandleNextDocument(extra) || out.diagnostics.size() > before) {
      out.diagnostics.resize(before);
      out.diagnostics.push_back(make_diagnostic(Severity::kError, file, 0, 0,
                                                "more than one YAML document in the file",
                                                "put each document in its own file"));
    }
  } catch (const StopParsing&) {
    // the nesting error is already recorded
  } catch (const YAML::Exception& e) {
    Diagnostic d;
    d.where = {file, e.mark.is_null() ? 0 : e.mark.line + 1,
               e.mark.is_null() ? 0 : e.mark.column + 1};
    d.message = "YAML syntax: " + e.msg;
    out.diagnostics.push_back(std::move(d));
  } catch (const std::exception& e) {
    out.diagnostics.push_back(make_diagnostic(Severity::kError, file, 0, 0,
                                              std::string("cannot parse: ") + e.what(), ""));
  }
  return out;
}

// The fast path: libyaml (C, ~10x yaml-cpp 0.7's speed) driving the same TreeBuilder, for files in
// a subset where both parsers are known to produce the same events at the same marks: ASCII without
// tabs, carriage returns or backslashes; one document; scalars on one line, plain or quoted, never
// empty; no anchors, aliases, tags, directives or block scalars; nesting within the schema's depth.
// Anything else (and every syntax error) returns nullopt and the file goes to yaml-cpp, so
// diagnostics of such files stay exactly yaml-cpp's. tests/unit/config/yaml_tree_test.cpp checks
// that both parsers build the same tree (and diagnostics) for every file the fast path takes.
class LibYamlParser {
 public:
  explicit LibYamlParser(std::string_view content) {
    ok_ = yaml_parser_initialize(&parser_) != 0;
    if (ok_)
      yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(content.data()),
                                   content.size());
  }
  ~LibYamlParser() {
    if (ok_) yaml_parser_delete(&parser_);
  }
  LibYamlParser(const LibYamlParser&) = delete;
  LibYamlParser& operator=(const LibYamlParser&) = delete;
  bool ok() const { return ok_; }
  // The next event (owned by `event` until the next call); false on a syntax error.
  bool next(yaml_event_t& event) {
    if (has_event_) yaml_event_delete(&event);
    has_event_ = yaml_parser_parse(&parser_, &event) != 0;
    return has_event_;
  }
  void release(yaml_event_t& event) {
    if (has_event_) yaml_event_delete(&event);
    has_event_ = false;
  }

 private:
  yaml_parser_t parser_{};
  bool ok_ = false;
  bool has_event_ = false;
};

bool in_fast_subset(std::string_view content) {
  for (char c : content) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\n') || u >= 0x7F || u == '\\') return false;
  }
  return true;
}

bool null_string(std::string_view s) {
  return s == "~" || s == "null" || s == "Null" || s == "NULL";
}

}  // namespace

std::optional<ParsedYaml> parse_yaml_fast(const std::string& file, std::string_view content) {
  if (content.empty() || !in_fast_subset(content)) return std::nullopt;
  ParsedYaml out;
  TreeBuilder builder(file, content, out.diagnostics);
  LibYamlParser parser(content);
  if (!parser.ok()) return std::nullopt;
  auto mark_of = [](const yaml_mark_t& m) {
    YAML::Mark mark;
    mark.pos = static_cast<int>(m.index);  // bytes: the content is ASCII
    mark.line = static_cast<int>(m.line);
    mark.column = static_cast<int>(m.column);
    return mark;
  };
  yaml_event_t event{};
  int documents = 0;
  int depth = 0;
  bool fallback = false;
  bool ended = false;
  while (!fallback && !ended && parser.next(event)) {
    switch (event.type) {
      case YAML_STREAM_START_EVENT:
      case YAML_DOCUMENT_END_EVENT:
        break;
      case YAML_STREAM_END_EVENT:
        ended = true;
        break;
      case YAML_DOCUMENT_START_EVENT:
        fallback = ++documents > 1 || event.data.document_start.version_directive != nullptr ||
                   event.data.document_start.tag_directives.start !=
                       event.data.document_start.tag_directives.end;
        break;
      case YAML_ALIAS_EVENT:
        fallback = true;
        break;
      case YAML_SCALAR_EVENT: {
        const auto& sc = event.data.scalar;
        const bool plain = sc.style == YAML_PLAIN_SCALAR_STYLE;
        if (sc.anchor != nullptr || sc.tag != nullptr || sc.style == YAML_LITERAL_SCALAR_STYLE ||
            sc.style == YAML_FOLDED_SCALAR_STYLE || event.start_mark.line != event.end_mark.line ||
            (plain && sc.length == 0)) {
          fallback = true;
          break;
        }
        const std::string value(reinterpret_cast<const char*>(sc.value), sc.length);
        if (plain && null_string(value)) {
          builder.OnNull(mark_of(event.start_mark), YAML::NullAnchor);
        } else {
          builder.OnScalar(mark_of(event.start_mark), plain ? "?" : "!", YAML::NullAnchor, value);
        }
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        const bool map = event.type == YAML_MAPPING_START_EVENT;
        const bool has_props = map ? (event.data.mapping_start.anchor != nullptr ||
                                      event.data.mapping_start.tag != nullptr)
                                   : (event.data.sequence_start.anchor != nullptr ||
                                      event.data.sequence_start.tag != nullptr);
        const bool flow = map ? event.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
                              : event.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
        const std::size_t at = event.start_mark.index;
        // A flow collection starts at its bracket (a single-pair mapping inside `[...]` has none).
        if (has_props || ++depth > kMaxNestingDepth ||
            (flow && (at >= content.size() || content[at] != (map ? '{' : '[')))) {
          fallback = true;
          break;
        }
        if (map) {
          builder.OnMapStart(mark_of(event.start_mark), "?", YAML::NullAnchor,
                             flow ? YAML::EmitterStyle::Flow : YAML::EmitterStyle::Block);
        } else {
          builder.OnSequenceStart(mark_of(event.start_mark), "?", YAML::NullAnchor,
                                  flow ? YAML::EmitterStyle::Flow : YAML::EmitterStyle::Block);
        }
        break;
      }
      case YAML_SEQUENCE_END_EVENT:
        --depth;
        builder.OnSequenceEnd();
        break;
      case YAML_MAPPING_END_EVENT:
        --depth;
        builder.OnMapEnd();
        break;
      case YAML_NO_EVENT:
        fallback = true;
        break;
    }
  }
  parser.release(event);
  if (fallback || !ended || documents != 1 || !builder.done()) return std::nullopt;
  out.root = builder.take_root();
  out.has_root = true;
  return out;
}

ParsedYaml parse_yaml_reference(const std::string& file, std::string_view content) {
  ParsedYaml out;
  if (!admissible(file, content, out)) return out;
  return parse_with_yaml_cpp(file, content);
}

ParsedYaml parse_yaml(const std::string& file, std::string_view content) {
  ParsedYaml out;
  if (!admissible(file, content, out)) return out;
  if (auto fast = parse_yaml_fast(file, content)) return std::move(*fast);
  return parse_with_yaml_cpp(file, content);
}

}  // namespace sharekeeper::config::detail
