# METADATA
# title: S8 Peers without a certificate (verify=1, require=0)
# description: >-
#   A TLS peer may connect without a certificate; the policy sees it as unverified and lets it
#   use only the anonymous methods. A certificate that fails verification is refused.
package sip.scenario.unverified

import data.config.unverified as cfg

state := "verified" if input.identity.verified == true

else := "failed" if input.identity.presented == true

else := "none"

deny contains {"status": 403, "reason": "Certificate Verification Failed"} if {
	inbound_tls
	state == "failed"
}

deny contains {"status": 403, "reason": "Certificate Required"} if {
	inbound_tls
	input.message.kind == "request"
	state == "none"
	not input.message.method in cfg.anonymous_methods
}

log := {"peer_certificate": state} if inbound_tls

inbound_tls if {
	input.direction == "inbound"
	input.transport == "tls"
}
