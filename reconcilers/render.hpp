#pragma once
// Renderers of a Plan (and of an apply result): text like `terraform plan` (per account and object,
// +/~/- with the principals and keys that change, then one summary line), JSON (the daemon's GET
// /plan), and markdown (pull-request comments). Deterministic: the same plan always renders the
// same bytes.
#include <string>

#include "reconcilers/apply.hpp"
#include "reconcilers/plan.hpp"

namespace sharekeeper::reconcilers {

std::string render_text(const Plan& p);
std::string render_json(const Plan& p);  // pretty-printed, 2-space indent, trailing newline
// The same document without indentation or trailing newline: what the daemon keeps per account
// for GET /plan (which indents it), at half the size.
std::string render_json_compact(const Plan& p);
std::string render_markdown(const Plan& p);
// "Plan: 2 to add, 1 to change, 0 to remove; 1 revocation(s) blocked. Grants: 3 Ready, 1 Pending."
std::string render_summary_line(const Plan& p);

// What an apply did, and what still differs afterwards (text).
std::string render_apply_text(const ApplyResult& r);

}  // namespace sharekeeper::reconcilers
