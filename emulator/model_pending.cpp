// Products not implemented yet answer like an unknown action.
#include "emulator/model_state.hpp"

namespace sharekeeper::emulator {

namespace {
[[noreturn]] void not_found() {
  fail(404, "InvalidAction.NotFound",
       "Specified api is not found, please check your url and method.");
}
}  // namespace

ApiResponse resource_sharing_call(State&, const ModelOptions&, const ApiCall&) { not_found(); }
std::string association_status(const State&, const ResourceShare&, const Association&,
                               const ModelOptions&, Clock::time_point) {
  return "Associating";
}
int accept_pending_invitations(State&, const std::optional<std::string>&, Clock::time_point) {
  return 0;
}
nlohmann::json evaluate_access(const State&, const ModelOptions&, std::string_view,
                               std::string_view, Clock::time_point) {
  return {{"usable", false}, {"reasons", {"access evaluation is not implemented yet"}}};
}

}  // namespace sharekeeper::emulator
