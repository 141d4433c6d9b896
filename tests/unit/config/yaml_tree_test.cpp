// The two YAML parsers behind parse_yaml (config/yaml_tree.hpp): libyaml's fast path must build
// exactly the tree and the diagnostics yaml-cpp builds, for every file it takes; files outside its
// subset, and every file with a syntax error, must go to yaml-cpp (whose diagnostics are the ones
// the loader's tests pin down).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "config/yaml_tree.hpp"

namespace sharekeeper::config::detail {
namespace {

namespace fs = std::filesystem;

std::string dump(const Node& n, int indent = 0) {
  std::string out(static_cast<std::size_t>(indent), ' ');
  static const char* kKinds[] = {"null", "scalar", "seq", "map"};
  out += std::string(kKinds[static_cast<int>(n.kind)]) + " " + std::to_string(n.line) + ":" +
         std::to_string(n.column) + (n.quoted ? " quoted" : "") + " `" + n.text + "`\n";
  for (const auto& c : n.children) out += dump(c, indent + 2);
  return out;
}

std::string dump(const ParsedYaml& p) {
  std::string out = p.has_root ? dump(p.root) : "(no root)\n";
  for (const auto& d : p.diagnostics) out += format_diagnostic(d) + "\n";
  return out;
}

// True when the fast path took the file; then its result must be the reference's.
bool expect_same(const std::string& name, const std::string& content) {
  auto fast = parse_yaml_fast(name, content);
  if (!fast) return false;
  EXPECT_EQ(dump(*fast), dump(parse_yaml_reference(name, content))) << name << ":\n" << content;
  return true;
}

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// What a large generated config looks like (bench/config writes the same shape).
std::string generated(int shares) {
  std::string out = "apiVersion: sharekeeper/v1\nshares:\n";
  for (int s = 0; s < shares; ++s) {
    const std::string n = std::to_string(s);
    out += "  - name: share-" + n + "\n    account: account-" + std::to_string(s % 7) +
           "\n    region: cn-hangzhou\n    images: [m-bp1" + std::string(16 - n.size(), '0') + n +
           "]\n    snapshots: [s-bp1" + std::string(16 - n.size(), '0') + n +
           "]\n    to:\n      accounts:\n";
    for (int t = 0; t < 3; ++t)
      out += "        - \"" + std::to_string(2000000000000000LL + s * 3 + t) + "\"\n";
  }
  return out;
}

TEST(YamlTree, TheFastPathTakesOrdinaryConfigs) {
  EXPECT_TRUE(expect_same("gen.yaml", generated(50)));
  int taken = 0;
  for (const auto& e : fs::directory_iterator(fs::path(SHAREKEEPER_SOURCE_DIR) / "examples"))
    if (e.path().extension() == ".yaml") taken += expect_same(e.path().string(), read(e.path()));
  EXPECT_GE(taken, 4);  // examples with a non-ASCII comment go to yaml-cpp: fine, but not all
}

TEST(YamlTree, BothParsersAgreeOnEveryFileTheFastPathTakes) {
  const std::vector<std::string> cases = {
      "a: b\n",
      "a: 'b'\nc: \"d\"\n",
      "a: [x, 'y', \"z\"]\nb: {c: d, e: [f]}\n",
      "a: []\nb: {}\nc: ''\nd: \"\"\n",
      "a: ~\nb: null\nc: Null\nd: NULL\ne: nulls\n",
      "- a\n- - b\n  - c\n- {d: e}\n-   f: g\n    h: i\n",
      "k:\n- a\n- b\nl: x\n",
      "a: b  # comment\n# full line\nc: d #x\n",
      "a: foo#bar\nb: x # y\n",
      "roleArn: acs:ram::1234567890123456:role/sharekeeper\nf: [acs:ram::1:role/x, "
      "rd-a/r-b/fd-c]\n",
      "url: https://example.com:8443/path?x=1\n",
      "a: b\na: c\n",                                    // duplicate key
      "<<: {a: b}\n",                                    // merge key
      "{[a]: b}\n",                                      // non-scalar key
      "- name: LTAI5tAbCdEfGhIjKlMnOpQr\n",              // looks like an AccessKey ID
      "a: {b: {c: {d: {e: {f: {g: {h: {i: j}}}}}}}}\n",  // deep
      "a:   spaced   value  \n",
      "'quoted key': 1\n\"dq\": 2\n",
      "a: 'it''s'\n",
      "a: - b\n",
      "a: 1\n...\n",
      "---\na: 1\n",
      "a: b: c\n",
      "  a: 1\n  b: 2\n",
      "a: [b, c,]\n",
      "a: [b\n  , c]\n",
      "? a\n: b\n",
      "a: -x\nb: :y\nc: ?z\n",
      "a: 0x1F\nb: 1e3\nc: true\nd: off\n",
      "- [a: b]\n",
      "a: b\n---\nc: d\n",
      "a:\n  - b\n  -\n",
      "a: |\n  x\n",
      "a: &x b\n",
      "a: !t b\n",
      "a:\tb\n",
      "a: \"x\\ny\"\n",
      "a: b\r\n",
      "a: [\n",
      "a: 'x\n  y'\n",
      "",
      "# only a comment\n",
  };
  std::string taken;
  for (std::size_t i = 0; i < cases.size(); ++i)
    if (expect_same("case" + std::to_string(i) + ".yaml", cases[i]))
      taken += std::to_string(i) + " ";
  // The valid ones and those with the builder's own diagnostics (duplicate and merge keys, complex
  // keys, AccessKey IDs) are taken; syntax errors and the excluded features are not.
  EXPECT_EQ(taken, "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 16 17 18 20 21 23 24 25 26 27 28 ") << taken;
  // The loader's own rule inputs and the fuzzer's seeds, file by file.
  const std::string split = "\n#--file--\n";
  for (const auto& e : fs::directory_iterator(fs::path(SHAREKEEPER_SOURCE_DIR) / "tests" / "fuzz" /
                                              "corpus" / "config")) {
    const std::string data = read(e.path());
    for (std::size_t start = 0;;) {
      const auto at = data.find(split, start);
      expect_same(e.path().filename().string(), data.substr(start, at - start));
      if (at == std::string::npos) break;
      start = at + split.size();
    }
  }
}

TEST(YamlTree, FilesOutsideTheSubsetGoToYamlCpp) {
  for (const char* content : {"a: [\n",
                              "a: b: c\n",
                              "a: &x b\n",
                              "a: *x\n",
                              "a: !t b\n",
                              "a:\tb\n",
                              "a: \"x\\ny\"\n",
                              "a: b\r\n",
                              "a: |\n  x\n",
                              "a: >\n  x\n",
                              "a: 'x\n  y'\n",
                              "a:\n",
                              "- \n",
                              "",
                              "# only a comment\n",
                              "a: b\n---\nc: d\n",
                              "%YAML 1.2\n---\na: b\n",
                              "a: caf\xc3\xa9\n",
                              "- [a: b]\n",
                              "a: {b: {c: {d: {e: {f: {g: {h: {i: {j: {k: {l: {m: n}}}}}}}}}}}}\n"})
    EXPECT_FALSE(parse_yaml_fast("x.yaml", content).has_value()) << content;
}

TEST(YamlTree, ParseYamlUsesTheFastPathOnlyWhereItAgrees) {
  // Through the public entry point: a syntax error is yaml-cpp's message at yaml-cpp's position.
  const auto bad = parse_yaml("x.yaml", "apiVersion: sharekeeper/v1\nshares:\n  - name: [\n");
  ASSERT_EQ(bad.diagnostics.size(), 1U);
  EXPECT_EQ(format_diagnostic(bad.diagnostics[0]),
            format_diagnostic(parse_yaml_reference("x.yaml",
                                                   "apiVersion: sharekeeper/v1\nshares:\n  - "
                                                   "name: [\n")
                                  .diagnostics[0]));
  EXPECT_NE(bad.diagnostics[0].message.find("YAML syntax"), std::string::npos);
  const std::string good = generated(3);
  EXPECT_EQ(dump(parse_yaml("g.yaml", good)), dump(parse_yaml_reference("g.yaml", good)));
}

}  // namespace
}  // namespace sharekeeper::config::detail
