#pragma once
// The paper's qualitative claims checked on a sweep's own runs:
//   1. at fixed C the best loss falls as S rises (§2.1, Fig. 1: "along sparsity, the pretraining
//      loss decreases monotonically"): per budget, the lowest val_loss of each swept sparsity is
//      non-increasing in S;
//   2. at fixed N the optimal sparsity is interior for models small for the budget and rises
//      with N (§2.2, Fig. 4, App. D.2): per budget, from the isoFLOP surface (Eq. 8, as `law
//      surface` fits it), S*(N) over the runs' N range is non-decreasing in N and interior
//      (strictly inside the swept sparsities) at the smallest N.
// Each is reported as holds / does not hold / not enough data, with the numbers behind it.
#include <string>
#include <vector>

#include "verify/sweep/ledger.h"

namespace moeplan::verify {

enum class ClaimStatus { kHolds, kDoesNotHold, kNotEnoughData };
const char* claim_status_name(ClaimStatus status);  // "holds", "does not hold", "not enough data"

struct ClaimCheck {
  std::string claim;  // one line: what the paper says
  ClaimStatus status = ClaimStatus::kNotEnoughData;
  std::vector<std::string> evidence;  // one line per budget
};

ClaimCheck check_loss_falls_with_sparsity(const std::vector<LedgerRow>& rows);
ClaimCheck check_interior_optimal_sparsity(const std::vector<LedgerRow>& rows);

std::vector<ClaimCheck> check_paper_claims(const std::vector<LedgerRow>& rows);

}  // namespace moeplan::verify
