#pragma once
// Resource Directory membership (issue 16): where each account sits in a directory that a grant
// names (to.resourceDirectory, to.folders) or, for explain, that a share role trusts, so the chain
// can tell whether an account target is reached through its directory or a folder above it
// (docs/adoption.md, "Directory membership").
//
// Read-only, with the credentials of the directory's management account: the config account whose
// UID is the MasterAccountId that GetResourceDirectory answers (docs/config.md, "Resource
// Directory membership"). Calls (docs/alibaba-api.md §13): GetResourceDirectory on the config's
// accounts, those whose grants name the directory first, until one answers that directory
// (usually the first one asked), then ListAccounts, every page, with the management account.
// Membership decides no write and no revocation: a failed call or page leaves that directory
// unknown (the links that need it stay "unknown", never "broken").
//
// Thread-safety: a Directories value is immutable once built; observe_directories uses only the
// CloudApis client_for hands it (thread-safe by contract), one call at a time.
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cloud/api.hpp"
#include "config/desired_state.hpp"
#include "reconcilers/observe.hpp"

namespace sharekeeper::reconcilers {

struct DirectoryMembership {
  std::string directory_id;
  bool known = false;
  std::string why_unknown;     // one line, when !known
  std::string reader;          // the config account whose credentials listed the members
  std::string management_uid;  // MasterAccountId, when GetResourceDirectory answered
  std::string root_folder_id;
  // Member UID -> its folder path: rd-.../r-.../fd-... (ResourceDirectoryPath without the account
  // itself), the form the trust policy's sts:ServiceOwnerRDPath patterns are written against.
  std::map<std::string, std::string, std::less<>> folder_of;
};

struct Directories {
  std::map<std::string, DirectoryMembership, std::less<>> by_id;
  std::vector<cloud::Error> errors;  // every failed call, in order
  int calls = 0;                     // CloudApi calls made
};

enum class Membership { kUnknown, kMember, kNotMember };
// Where `uid` is in directory `rd_id`: kMember sets *folder_path (when given); kUnknown when the
// directory was not read (nullptr, not asked for, or a failed call).
Membership membership_of(const Directories* d, std::string_view rd_id, std::string_view uid,
                         std::string* folder_path = nullptr);

// The directories the grants of `desired` name (of the shares of the accounts in `only`; all
// when empty): each resourceDirectory, and the directory of each folder path.
std::set<std::string> directories_named(const config::DesiredState& desired,
                                        const std::vector<std::string>& only = {});
// The directories a share role of `obs` trusts (its RD and folder principals), and those its
// resources are shared with through Resource Sharing.
void add_trusted_directories(const AccountObservation& obs, std::set<std::string>& out);

// The UID of a config account when it is known (observed, or written in the config).
using UidOf = std::function<std::optional<std::string>(const config::Account&)>;

// Reads the membership of each directory in `ids` (see the top of this file). An id no account
// of the config belongs to, or whose management account is not in the config, is unknown with the
// reason (no call fails for it).
Directories observe_directories(const config::DesiredState& desired,
                                const std::set<std::string>& ids, const ClientFor& client_for,
                                const UidOf& uid_of);

// After observe(): reads the directories the grants name (with `trusted`, also those the observed
// share roles trust) and attaches the result to every account observation. Nothing is read, and
// nothing attached, when there is no such directory. UIDs come from the observation, else the
// config.
void attach_directories(const config::DesiredState& desired, Observation& obs,
                        const ClientFor& client_for, bool trusted = false);

}  // namespace sharekeeper::reconcilers
