# METADATA
# title: S3 Bilateral trust
# description: Each partner ITSP has its own CA; the policy knows which CA is which partner and where each partner may call.
package sip.scenario.bilateral

import data.config.bilateral as cfg
import data.sip.lib.peer

partner := name if {
	some name, p in cfg.partners
	peer.anchor == p.ca
}

deny contains {"status": 403, "reason": "Unknown Partner"} if {
	inbound_tls
	not partner
}

deny contains {"status": 403, "reason": "Destination Not Allowed For Partner"} if {
	inbound_tls
	input.message.kind == "request"
	partner
	not destination_allowed
}

destination_allowed if input.message.ruri.host in cfg.partners[partner].destinations

log := {"partner": partner}

inbound_tls if {
	input.direction == "inbound"
	input.transport == "tls"
}
