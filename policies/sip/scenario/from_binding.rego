# METADATA
# title: S7 Identity binding (From header vs certificate)
# description: >-
#   The From URI of every request over TLS must be covered by the peer's certificate: a domain
#   certificate covers its domain, a SIP-URI certificate exactly that URI, a device certificate
#   what the CN mapping file lists. Trusted proxies are exempt; email SANs count only when the
#   operator says so.
package sip.scenario.from_binding

import data.config.from_binding as cfg
import data.sip.lib.peer

deny contains {"status": 403, "reason": "From Not Covered By Certificate"} if {
	input.direction == "inbound"
	input.transport == "tls"
	input.message.kind == "request"
	not exempt
	not covered
}

from_aor := lower(concat("@", [input.message.from.user, input.message.from.host]))

from_domain := lower(input.message.from.host)

exempt if {
	some domain in peer.domains
	domain in cfg.trusted_proxies
}

covered if from_domain in peer.domains

covered if from_aor in peer.uri_identities

covered if {
	peer.verified
	from_aor in input.identity.mapped_identities
}

covered if {
	peer.verified
	from_domain in input.identity.mapped_identities
}

covered if {
	cfg.email_san_is_sip_identity
	peer.verified
	some email in input.identity.san.email
	lower(email) == from_aor
}
