// ResourceManager (global, 2020-03-31) typed calls: Resource Directory membership, read-only
// (docs/alibaba-api.md §13). RAM-style `Plural: {Singular: [...]}` lists, PageNumber paging.
#include <algorithm>

#include "cloud/client_internal.hpp"
#include "support/wire.hpp"

namespace sharekeeper::cloud {
namespace {

AlibabaClient::Call rm(std::string_view action, Params params) {
  return AlibabaClient::Call{
      "resourcemanager", wire::kResourceManagerVersion, action, "", std::move(params), true};
}

}  // namespace

Result<std::optional<ResourceDirectoryInfo>> AlibabaClient::get_resource_directory() {
  const Call call = rm("GetResourceDirectory", {});
  auto j = detail::call_json(*this, call);
  if (!j) {
    // ResourceDirectoryNotInUse (404): the account is in no directory, a normal answer.
    if (j.error().code == "ResourceDirectoryNotInUse")
      return std::optional<ResourceDirectoryInfo>{};
    return j.error();
  }
  auto d = j->find("ResourceDirectory");
  if (d == j->end() || !d->is_object())
    return detail::malformed(call, "response has no ResourceDirectory object");
  ResourceDirectoryInfo info;
  info.resource_directory_id = detail::str(*d, "ResourceDirectoryId");
  info.root_folder_id = detail::str(*d, "RootFolderId");
  info.master_account_id = detail::str(*d, "MasterAccountId");
  info.master_account_name = detail::str(*d, "MasterAccountName");
  if (info.resource_directory_id.empty() || info.master_account_id.empty())
    return detail::malformed(call,
                             "ResourceDirectory has no ResourceDirectoryId or MasterAccountId");
  return std::optional<ResourceDirectoryInfo>(std::move(info));
}

Result<std::vector<DirectoryAccount>> AlibabaClient::list_directory_accounts() {
  std::vector<DirectoryAccount> out;
  auto paged = detail::numbered_pages(
      *this,
      [&](int page) {
        // PageSize 1-100 (default 10): the largest page, so a directory of N members takes
        // ceil(N / 100) calls.
        return rm("ListAccounts",
                  {{"PageNumber", std::to_string(page)},
                   {"PageSize", std::to_string(std::min(options_.page_size, 100))}});
      },
      [&](const detail::json& page, const Call& call) -> Result<std::size_t> {
        const detail::json* list = detail::items(page, "Accounts", "Account");
        if (list == nullptr) return detail::malformed(call, "Accounts.Account is not a list");
        for (const auto& a : *list) {
          if (!a.is_object())
            return detail::malformed(call, "an Accounts.Account entry is not an object");
          DirectoryAccount d;
          d.account_id = detail::str(a, "AccountId");  // a string, or int64 digits
          d.display_name = detail::str(a, "DisplayName");
          d.folder_id = detail::str(a, "FolderId");
          d.resource_directory_id = detail::str(a, "ResourceDirectoryId");
          d.resource_directory_path = detail::str(a, "ResourceDirectoryPath");
          d.status = detail::str(a, "Status");
          d.type = detail::str(a, "Type");
          if (d.account_id.empty())
            return detail::malformed(call, "an Accounts.Account entry has no AccountId");
          out.push_back(std::move(d));
        }
        return list->size();
      });
  if (!paged) return std::move(paged).error();
  return out;
}

}  // namespace sharekeeper::cloud
