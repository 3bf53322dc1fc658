# METADATA
# title: The gateway's decision (entrypoint sip/decision)
# description: >-
#   Combines the scenario packages enabled in data.config.scenarios into the decision document
#   of schemas/decision.schema.json. Every enabled scenario may deny; the first denial (lowest
#   status) becomes the response.
package sip

import data.config
import data.sip.scenario.bilateral
import data.sip.scenario.cn_access
import data.sip.scenario.enterprise
import data.sip.scenario.federation
import data.sip.scenario.from_binding
import data.sip.scenario.hosted
import data.sip.scenario.partner_rate
import data.sip.scenario.routing
import data.sip.scenario.trusted_call
import data.sip.scenario.unverified

decision["allow"] := allowed

decision["reject"] := {"status": first[0], "reason": first[1]} if not allowed

decision["alert_info"] := trusted_call.alert_info if {
	allowed
	"trusted_call" in config.scenarios
}

decision["route"] := route if allowed

decision["client_domain"] := federation.client_domain if {
	allowed
	"federation" in config.scenarios
}

decision["log"] := log if count(log) > 0

allowed := count(denials) == 0

first := sort([[d.status, d.reason] | some d in denials])[0]

denials_of := {
	"enterprise": enterprise.deny,
	"federation": federation.deny,
	"bilateral": bilateral.deny,
	"hosted": hosted.deny,
	"trusted_call": set(),
	"cn_access": cn_access.deny,
	"from_binding": from_binding.deny,
	"unverified": unverified.deny,
	"routing": set(),
	"partner_rate": partner_rate.deny,
}

denials contains denial if {
	some name in config.scenarios
	some denial in denials_of[name]
}

# A misspelt scenario name must not silently switch a check off.
denials contains {"status": 500, "reason": "Policy Misconfigured"} if {
	some name in config.scenarios
	not denials_of[name]
}

# S4's route (an address Request-URI) wins over S9's next-hop table.
route := r if {
	"hosted" in config.scenarios
	r := hosted.route
} else := r if {
	"routing" in config.scenarios
	r := routing.route
}

log[key] := value if {
	"federation" in config.scenarios
	some key, value in federation.log
}

log[key] := value if {
	"bilateral" in config.scenarios
	some key, value in bilateral.log
}

log[key] := value if {
	"unverified" in config.scenarios
	some key, value in unverified.log
}

log[key] := value if {
	"partner_rate" in config.scenarios
	some key, value in partner_rate.log
}
