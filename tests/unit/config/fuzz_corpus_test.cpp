// Replays the fuzzer's seed corpus (tests/fuzz/corpus/config) through the loader in the ordinary
// builds, so every input that once mattered (and any crasher added there) also runs under the asan
// preset.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/loader.hpp"

namespace sharekeeper::config {
namespace {

namespace fs = std::filesystem;

TEST(FuzzCorpus, EveryInputLoadsWithoutCrashingAndWithConsistentResults) {
  fs::path dir = fs::path(SHAREKEEPER_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / "config";
  int inputs = 0, valid = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string data = ss.str();
    // The same split as tests/fuzz/config_fuzzer.cpp: one file per "\n#--file--\n" section.
    std::vector<Source> sources;
    const std::string split = "\n#--file--\n";
    std::size_t start = 0;
    for (int n = 0;; ++n) {
      auto at = data.find(split, start);
      std::string name = "f" + std::to_string(n) + ".yaml";
      if (at == std::string::npos || n == 7) {
        sources.push_back({name, data.substr(start)});
        break;
      }
      sources.push_back({name, data.substr(start, at - start)});
      start = at + split.size();
    }
    auto r = load_sources(sources);
    EXPECT_EQ(r.ok(), r.error_count() == 0) << e.path();
    for (const auto& d : r.diagnostics) EXPECT_FALSE(format_diagnostic(d).empty());
    ++inputs;
    valid += r.ok();
  }
  EXPECT_GE(inputs, 10);
  EXPECT_GE(valid, 4);  // the examples among the seeds
}

}  // namespace
}  // namespace sharekeeper::config
