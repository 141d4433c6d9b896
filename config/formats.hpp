#pragma once
// Exact formats of the values the config accepts (docs/failure-matrix.md §4.7). Hand-written
// matchers, not std::regex: they run ~10^6 times on a 10,000-share config. Everything that can end
// up in a policy document is restricted to characters that need no JSON escaping, so nothing can
// smuggle in a statement.
#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

namespace sharekeeper::config::format {

bool is_account_uid(std::string_view s);     // ^[0-9]{16}$
bool is_image_id(std::string_view s);        // ^m-[a-z0-9]{10,32}$
bool is_snapshot_id(std::string_view s);     // ^s-[a-z0-9]{10,32}$
bool is_rd_id(std::string_view s);           // ^rd-[A-Za-z0-9]{6}$
bool is_root_folder_id(std::string_view s);  // ^r-[A-Za-z0-9]{6}$
bool is_folder_id(std::string_view s);       // ^fd-[A-Za-z0-9]{10}$
// rd-xxxxxx/r-xxxxxx/fd-xxxxxxxxxx[/fd-xxxxxxxxxx]{0,4}: at least one folder below the root, at
// most five levels (the RD limit); no empty segments, "..", "*" or trailing "/".
inline constexpr int kMaxFolderLevels = 5;
bool is_folder_path(std::string_view s);
// The rd- id a well-formed folder path starts with.
std::string_view folder_path_rd(std::string_view path);

bool is_region_id(std::string_view s);  // ^[a-z]{2,3}(-[a-z0-9]+){1,3}$
bool is_known_region(std::string_view s);
const std::vector<std::string_view>& known_regions();

// "30s", "5m", "1h", "1h30m": units h, m, s in that order, each at most once.
std::optional<std::chrono::seconds> parse_duration(std::string_view s);

bool is_name(std::string_view s);  // account/share names: ^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$
bool is_instance_name(
    std::string_view s);                   // ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$, not aliyun*/acs*
bool is_env_var_name(std::string_view s);  // ^[A-Za-z_][A-Za-z0-9_]{0,127}$
bool is_profile_name(std::string_view s);  // ^[A-Za-z0-9._-]{1,64}$
bool is_ram_role_name(std::string_view s);  // ^[A-Za-z0-9.-]{1,64}$
bool is_role_arn(std::string_view s);       // ^acs:ram::[0-9]{16}:role/<ram role name>$
bool is_oidc_provider_arn(
    std::string_view s);                  // ^acs:ram::[0-9]{16}:oidc-provider/[A-Za-z0-9.-]{1,128}$
bool is_external_id(std::string_view s);  // ^[A-Za-z0-9=,.@:/_-]{2,1224}$
bool is_role_session_name(std::string_view s);   // ^[A-Za-z0-9.@_-]{2,64}$
bool is_absolute_file_path(std::string_view s);  // /..., printable ASCII, no "/../" or "/./"
// Tag keys 1-128 and values 0-128 characters, no control characters, '"' or '\\'; keys must not
// start with "aliyun" or "acs:" (reserved by Alibaba) and neither may contain "http://" or
// "https://".
bool is_tag_key(std::string_view s);
bool is_tag_value(std::string_view s);
bool is_endpoint_product(std::string_view s);  // ecs | ram | sts | kms | resourcesharing
// "https://AUTHORITY[/]" or "http://AUTHORITY[/]" split at the last ':' of the authority; nullopt
// for any other scheme. Neither part is checked: the endpoint and etcd rules differ.
struct HttpUrl {
  bool plain_http = false;               // "http://" rather than "https://"
  std::string_view host;                 // everything before the last ':' (or the whole authority)
  std::optional<std::string_view> port;  // after the last ':', when there is one (may be empty)
};
std::optional<HttpUrl> split_http_url(std::string_view s);
// 1-5 decimal digits, at most 65535.
bool is_port(std::string_view s);
// https://HOST[:PORT][/], HOST of [a-z0-9.-] and "{region}"; http:// only for loopback hosts.
bool is_endpoint_url(std::string_view s);
// An AccessKey ID pasted where it does not belong ("LTAI" + 12..28 alphanumerics).
bool looks_like_access_key_id(std::string_view s);

// "did you mean ...": the closest candidate within a small edit distance (case, '_' and '-'
// ignored).
std::optional<std::string_view> closest(std::string_view word,
                                        const std::vector<std::string_view>& candidates);

}  // namespace sharekeeper::config::format
