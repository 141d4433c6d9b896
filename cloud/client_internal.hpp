#pragma once
// Helpers shared by the AlibabaClient translation units (alibaba_client.cpp, client_*.cpp):
// response decoding and parameter flattening. Internal to cloud/ (and its unit tests).
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cloud/alibaba_client.hpp"
#include "cloud/errors.hpp"

namespace sharekeeper::cloud::detail {

using nlohmann::json;

// Guard against a server that keeps answering "there is more": a listing that needs more pages than
// this is treated as malformed rather than looping forever.
inline constexpr int kMaxPages = 1000;

Error malformed(const AlibabaClient::Call& call, std::string_view what);

// The RequestId of a response body, scanned (see alibaba_client.cpp).
std::string request_id_of(std::string_view body);

// Parses a 2xx body as a JSON object.
Result<json> parse_body(const std::string& body, const AlibabaClient::Call& call);
// invoke() then parse_body(): the answer of a call as a JSON object.
Result<json> call_json(AlibabaClient& client, const AlibabaClient::Call& call);

// A string field; integers are rendered as their exact decimal digits (UIDs such as ImageOwnerId
// are int64 in JSON: never through double), booleans as "true"/"false", anything else as "".
std::string str(const json& obj, std::string_view key);
// true for JSON true and the string "true" (ECS sends some booleans as strings).
bool boolean(const json& obj, std::string_view key);
std::int64_t integer(const json& obj, std::string_view key, std::int64_t fallback);
// A policy document: RAM sends JSON inside a JSON string; decode the inner text once more (and a
// second time if it was double-encoded) and return the document's JSON text.
std::string document(const json& obj, std::string_view key);

// The list of `Plural: { Singular: [...] }` (RAM, ECS, KMS) or a bare `Plural: [...]` (Resource
// Sharing); an absent or empty wrapper is an empty list. nullptr when the shape is something else.
const json* items(const json& obj, std::string_view plural, std::string_view singular);
inline const json& empty_array() {
  static const json kEmpty = json::array();
  return kEmpty;
}

// Tags.Tag[]{TagKey, TagValue} (also {Key, Value}).
std::vector<Tag> tags(const json& obj);

// RAM "json" style parameters.
std::string json_tags(const std::vector<Tag>& tags);  // [{"Key":"k","Value":"v"}]
std::string json_strings(const std::vector<std::string>& values);

// Paging. Both helpers call invoke() page by page until the listing ends and hand every page
// (parsed) to on_page, which returns how many items it had or an error that ends the listing (and
// is theirs). A listing that needs more than kMaxPages pages, or whose NextToken does not advance,
// is malformed: a caller never sees a partial listing as complete.
using PageHandler =
    std::function<Result<std::size_t>(const json& page, const AlibabaClient::Call&)>;
// NextToken paging (RAM ListTagResources, ECS DescribeSnapshots, Resource Sharing lists):
// make_call gets "" for the first page.
Result<void> token_pages(AlibabaClient& client,
                         const std::function<AlibabaClient::Call(const std::string&)>& make_call,
                         const PageHandler& on_page);
// PageNumber paging (ECS DescribeImages/DescribeImageSharePermission, KMS ListAliasesByKeyId):
// pages 1, 2, ... until a page is empty or TotalCount items were seen (the default page of 10 would
// otherwise silently drop entries).
// The caller may stop early: after each page that leaves items unseen, `more(seen, total)`, when
// given, says whether the next page is worth its call (false: the listing ends there, and the
// caller knows it saw only part of it).
using MorePages = std::function<bool(std::int64_t seen, std::int64_t total)>;
Result<void> numbered_pages(AlibabaClient& client,
                            const std::function<AlibabaClient::Call(int page)>& make_call,
                            const PageHandler& on_page, const MorePages& more = {});

template <class T>
std::vector<std::vector<T>> chunks(const std::vector<T>& values, std::size_t size) {
  std::vector<std::vector<T>> out;
  for (std::size_t i = 0; i < values.size(); i += size) {
    out.emplace_back(
        values.begin() + static_cast<std::ptrdiff_t>(i),
        values.begin() + static_cast<std::ptrdiff_t>(std::min(values.size(), i + size)));
  }
  return out;
}

}  // namespace sharekeeper::cloud::detail
