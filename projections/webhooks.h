#pragma once
// The webhook projector: endpoint views, and the outbox. Each event a subscriber
// cares about becomes one outbox record per subscribed endpoint (per message for batch events),
// written in the same batch as everything else the event changes and the projector's position:
// a delivery is never lost nor created twice, and a rebuild writes the same records.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "projections/read_model.h"

namespace pulse::projections {

void apply_webhooks(ReadModelTx& tx, const EventEnvelope& env);

// A webhook event one event causes: its type, the item within the event, and its resource as
// JSON, the way the REST API shows it, read after the event was applied.
struct WebhookNotice {
  std::string type;
  int32_t item = 0;
  std::string data;
};
// The one place that maps events to webhook event types. `wanted(type)` says whether any
// endpoint subscribes to a type; resources are read only for wanted ones.
std::vector<WebhookNotice> webhook_notices(ReadModelTx& tx, const EventEnvelope& env,
                                           const std::function<bool(std::string_view)>& wanted);

// {"id", "type", "createdAt", "organizationId", "data"} (schemas/webhooks/payload.json).
std::string webhook_payload(std::string_view delivery_id, std::string_view type, TimePoint at,
                            const OrgId& org, std::string_view data);

}  // namespace pulse::projections
