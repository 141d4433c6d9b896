// ResourceManager 2020-03-31, the Resource Directory reads (docs/alibaba-api.md §13):
// GetResourceDirectory, ListAccounts, GetAccount, over the seed's resourceDirectory. Read-only: the
// directory is changed by the seed only (docs/emulator-seed.md).
#include <algorithm>

#include "emulator/model_state.hpp"

namespace sharekeeper::emulator {
namespace {

bool member_or_manager(const State& state, std::string_view uid) {
  return state.rd && (state.rd->master_account_id == uid ||
                      state.rd->account_folder.count(std::string(uid)) != 0);
}

nlohmann::json account_json(const State& state, const std::string& uid, const std::string& folder,
                            Clock::time_point joined) {
  const Account* acc = state.account(uid);
  const std::string name = acc != nullptr && !acc->name.empty() ? acc->name : uid;
  return {{"AccountId", uid},
          {"DisplayName", name},
          {"FolderId", folder},
          {"ResourceDirectoryId", state.rd->id},
          // The directory, the root, each folder down to the account's, then the account.
          {"ResourceDirectoryPath", rd_path(state, uid) + "/" + uid},
          {"JoinMethod", uid == state.rd->master_account_id ? "created" : "invited"},
          {"JoinTime", iso_millis(joined)},
          {"ModifyTime", iso_millis(joined)},
          {"Status", uid == state.rd->master_account_id ? "CreateSuccess" : "InviteSuccess"},
          {"Type", "CloudAccount"}};
}

ApiResponse get_resource_directory(const State& state, const ApiCall& call) {
  if (!member_or_manager(state, call.caller.account_uid)) {
    fail(404, "ResourceDirectoryNotInUse",
         "The specified account is not an Alibaba Cloud account or a member account of the "
         "resource directory.");
  }
  const ResourceDirectory& rd = *state.rd;
  const Account* master = state.account(rd.master_account_id);
  return ApiResponse{
      200,
      {{"RequestId", call.request_id},
       {"ResourceDirectory",
        {{"ResourceDirectoryId", rd.id},
         {"RootFolderId", rd.root_folder_id},
         {"MasterAccountId", rd.master_account_id},
         {"MasterAccountName", master != nullptr ? master->name : rd.master_account_id},
         {"CreateTime", iso_millis(state.epoch)},
         {"ControlPolicyStatus", "Disabled"},
         {"MemberDeletionStatus", "Disabled"}}}}};
}

// Only the management account reads the members (a delegated administrator is not emulated).
// What a member account is answered is not documented; the emulator answers what ListAccounts
// documents for an account whose own directory is not enabled.
void require_manager(const State& state, const ApiCall& call) {
  if (!state.rd || state.rd->master_account_id != call.caller.account_uid) {
    fail(404, "EntityNotExists.ResourceDirectory",
         "The resource directory for the account is not enabled. We recommend that you first "
         "enable the resource directory for the account.");
  }
}

ApiResponse list_accounts(const State& state, const ApiCall& call) {
  require_manager(state, call);
  const long page = int_param(call, "PageNumber", 1, 1, 1000000);
  const long size = int_param(call, "PageSize", 10, 1, 100);
  // Members sorted by UID (the management account is a member too, in its folder).
  std::vector<std::pair<std::string, std::string>> members(state.rd->account_folder.begin(),
                                                           state.rd->account_folder.end());
  nlohmann::json list = nlohmann::json::array();
  const auto from = static_cast<std::size_t>((page - 1) * size);
  for (std::size_t i = from; i < members.size() && i < from + static_cast<std::size_t>(size); ++i)
    list.push_back(account_json(state, members[i].first, members[i].second, state.epoch));
  return ApiResponse{200,
                     {{"RequestId", call.request_id},
                      {"TotalCount", members.size()},
                      {"PageNumber", page},
                      {"PageSize", size},
                      {"Accounts", {{"Account", list}}}}};
}

ApiResponse get_account(const State& state, const ApiCall& call) {
  require_manager(state, call);
  const std::string uid = required_param(call, "AccountId");
  auto it = state.rd->account_folder.find(uid);
  if (it == state.rd->account_folder.end())
    fail(404, "EntityNotExists.Account", "The specified account does not exist.");
  return ApiResponse{200,
                     {{"RequestId", call.request_id},
                      {"Account", account_json(state, uid, it->second, state.epoch)}}};
}

}  // namespace

ApiResponse resource_manager_call(State& state, const ModelOptions&, const ApiCall& call) {
  if (call.action == "GetResourceDirectory") return get_resource_directory(state, call);
  if (call.action == "ListAccounts") return list_accounts(state, call);
  if (call.action == "GetAccount") return get_account(state, call);
  fail(404, "InvalidAction.NotFound",
       "Specified api is not found, please check your url and method.");
}

}  // namespace sharekeeper::emulator
