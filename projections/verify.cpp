#include "projections/verify.h"

#include "domain/overloaded.h"

namespace pulse::projections {
namespace {

void update(ReadModelTx& tx, const EventEnvelope& env, const std::string& id, auto&& change) {
  auto v = tx.get(table::verification(env.org, id));
  if (!v) return;
  change(*v);
  v->updated_at = env.at;
  tx.put(table::verification(env.org, id), *v);
}

}  // namespace

bool apply_verify(ReadModelTx& tx, const EventEnvelope& env) {
  return std::visit(
      Overloaded{
          [&](const VerificationStarted& e) {
            VerificationView v;
            v.id = e.request_id;
            v.to = e.to;
            v.status = std::string(verify::status::pending);
            v.code_length = e.code_length;
            v.sends = 1;
            v.campaign_id = e.campaign_id;
            v.salt = e.salt;
            v.expires_at = e.expires_at;
            v.created_at = env.at;
            v.updated_at = env.at;
            tx.put(table::verification(env.org, v.id), v);
            tx.put(table::verifications_of(env.org, e.to).key(e.request_id), NoValue{});
            return true;
          },
          [&](const VerificationResent& e) {
            update(tx, env, e.request_id, [&](VerificationView& v) {
              ++v.sends;
              v.campaign_id = e.campaign_id;
            });
            return true;
          },
          [&](const VerificationChecked& e) {
            update(tx, env, e.request_id, [&](VerificationView& v) {
              v.attempts = e.attempts;
              v.status = e.status;
              if (e.valid) v.approved_by = e.check_id;
            });
            return true;
          },
          [&](const VerificationCancelled& e) {
            update(tx, env, e.request_id,
                   [&](VerificationView& v) { v.status = std::string(verify::status::cancelled); });
            return true;
          },
          [&](const NoneOf<VerifyEvents> auto&) { return false; },
      },
      env.body);
}

}  // namespace pulse::projections
