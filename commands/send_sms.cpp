#include "commands/send_sms.h"

#include "domain/ids.h"
#include "domain/message_body.h"
#include "domain/phone.h"
#include "domain/template.h"
#include "domain/text.h"
#include "fmt/format.h"

namespace pulse::commands {

Result<SendSms> make_send_sms(const SendSmsRequest& request, CampaignId campaign_id,
                              const PhoneParser& phones) {
  if (request.recipients.empty())
    return validation_error("At least one recipient is required",
                            "recipients must contain 1 to 500 entries");
  if (request.recipients.size() > kMaxRecipients)
    return validation_error(
        "Maximum 500 recipients per request",
        fmt::format("recipients has {} entries; the maximum is 500", request.recipients.size()));
  auto body = analyze_body(request.message);
  if (!body) return body.error();
  auto tmpl = parse_template(request.message);
  if (!tmpl) return tmpl.error();
  if (tmpl->has_variables()) {
    VariableNames available;
    for (auto& [name, value] : recipient_vars(Recipient{})) available.insert(name);
    if (auto st = check_variables(*tmpl, available, request.missing_variables); !st)
      return st.error();
  }

  SendSms cmd;
  if (request.device_id) {
    if (!is_valid_id(id_prefix::device, *request.device_id))
      return validation_error("Invalid deviceId",
                              "deviceId must be a device id (dvc_…) from GET /api/devices");
    cmd.device_id = DeviceId{*request.device_id};
    cmd.sim_slot = request.sim_slot;
  }
  cmd.campaign_id = std::move(campaign_id);
  cmd.message = request.message;
  cmd.recipients.reserve(request.recipients.size());
  for (size_t i = 0; i < request.recipients.size(); ++i) {
    const auto& raw = request.recipients[i];
    auto phone = parse_recipient(phones, raw.phone);
    if (!phone) {
      return validation_error(phone.error().message,
                              fmt::format("recipients[{}].phone: {}", i, phone.error().details));
    }
    if (raw.name.size() > 200)
      return validation_error("Recipient name is too long",
                              fmt::format("recipients[{}].name: at most 200 bytes", i));
    if (auto st = check_text("name", raw.name); !st)
      return validation_error(st.error().message,
                              fmt::format("recipients[{}].{}", i, st.error().details));
    Recipient r{std::move(phone->number), raw.name, phone->region,
                std::string(to_string(phone->type))};
    if (tmpl->has_variables()) {
      // Personalised bodies are checked per recipient here, so the decider never sees an
      // invalid one.
      auto rendered = analyze_body(render(*tmpl, recipient_vars(r)));
      if (!rendered)
        return validation_error(
            rendered.error().message,
            fmt::format("message for recipients[{}]: {}", i, rendered.error().details));
    }
    cmd.recipients.push_back(std::move(r));
  }
  return cmd;
}

TemplateVars recipient_vars(const Recipient& r) {
  TemplateVars vars;
  // Names are split on the first run of spaces, ignoring leading and trailing ones.
  const auto first = r.name.find_first_not_of(' ');
  const auto last = r.name.find_last_not_of(' ');
  const std::string name = first == std::string::npos ? "" : r.name.substr(first, last - first + 1);
  vars["name"] = name;
  vars["phone"] = r.phone.e164;
  const auto space = name.find(' ');
  vars["firstName"] = name.substr(0, space);
  const auto rest =
      space == std::string::npos ? std::string::npos : name.find_first_not_of(' ', space);
  vars["lastName"] = rest == std::string::npos ? "" : name.substr(rest);
  return vars;
}

}  // namespace pulse::commands
